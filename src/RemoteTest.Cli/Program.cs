using RemoteTest.Cli;

return await CliApp.RunAsync(args, CliEnvironment.FromProcess());
