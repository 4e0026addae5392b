using System.Reflection;

namespace RemoteTest.Tests;

/// <summary>docs/configuration.md names every setting the service binds, so a new tunable cannot go undocumented.</summary>
public sealed class ConfigurationDocsTests
{
    [Fact]
    public void Every_setting_of_RemoteTestOptions_is_in_docs_configuration_md()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "RemoteTest.slnx")))
        {
            root = root.Parent;
        }
        Assert.NotNull(root);
        var docs = File.ReadAllText(Path.Combine(root.FullName, "docs", "configuration.md"));

        var settings = Settings(typeof(RemoteTestOptions), "").ToList();
        Assert.Contains("Worker:Concurrency", settings);
        Assert.Contains("Limits:RateLimit:PermitLimit", settings);
        var missing = settings.Where(s => !docs.Contains($"`{s}`", StringComparison.Ordinal)).ToList();
        Assert.True(missing.Count == 0, "not in docs/configuration.md: " + string.Join(", ", missing));
    }

    /// <summary>Leaf settings as configuration keys below <c>RemoteTest:</c>, walking nested options classes.</summary>
    private static IEnumerable<string> Settings(Type type, string prefix)
    {
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite))
        {
            var t = property.PropertyType;
            if (t.IsClass && t != typeof(string) && t.Name.EndsWith("Options", StringComparison.Ordinal))
            {
                foreach (var nested in Settings(t, $"{prefix}{property.Name}:"))
                {
                    yield return nested;
                }
            }
            else
            {
                yield return prefix + property.Name;
            }
        }
    }
}
