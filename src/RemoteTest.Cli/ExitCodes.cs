namespace RemoteTest.Cli;

/// <summary>The exit codes a change-window script gates on.</summary>
public static class ExitCodes
{
    /// <summary>Every check passed.</summary>
    public const int Passed = 0;

    /// <summary>At least one check failed, or the task failed or was cancelled.</summary>
    public const int Failed = 1;

    /// <summary>Bad usage, bad input refused by the server, or the server could not be reached.</summary>
    public const int Usage = 2;
}
