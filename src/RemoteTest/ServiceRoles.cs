namespace RemoteTest;

/// <summary>What this process does, parsed from <c>RemoteTest:Roles</c>.</summary>
public sealed record ServiceRoles(bool Api, bool Worker, IReadOnlyList<string> Queues)
{
    /// <summary>Parses a role list (<c>all</c>, <c>api</c>, <c>worker</c>, comma separated); null when a name is unknown.</summary>
    public static ServiceRoles? Parse(string roles, IReadOnlyList<string> queues)
    {
        bool api = false, worker = false;
        foreach (var role in roles.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            switch (role.ToLowerInvariant())
            {
                case "all": api = worker = true; break;
                case "api": api = true; break;
                case "worker": worker = true; break;
                default: return null;
            }
        }
        return api || worker ? new ServiceRoles(api, worker, queues) : null;
    }

    public IEnumerable<string> Names => new[] { Api ? "api" : null, Worker ? "worker" : null }.OfType<string>();
}
