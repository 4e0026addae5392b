namespace RemoteTest.Store;

/// <summary>
/// The history query (<see cref="TaskQuery"/>) in SQL both dialects accept: the WHERE clause, the page size and the
/// page built from the rows. Parameters are named <c>@p0</c>, <c>@p1</c>... (SQLite and Npgsql both take the <c>@</c> prefix).
/// </summary>
internal static class HistorySql
{
    /// <summary>
    /// The SELECT of one page from <paramref name="table"/>, newest first, asking for one row more than the page holds
    /// (so the page knows whether another follows), with its parameters and the page size.
    /// </summary>
    public static (string Sql, List<(string Name, object Value)> Parameters, int Limit) Select(string table, TaskQuery query)
    {
        var limit = EffectiveLimit(query);
        var (where, parameters) = Filter(query);
        // Ids are lower-case UUID text in both providers, so comparing them as text orders ties the same way.
        return ($"SELECT {Rows.TaskColumns} FROM {table} {where} ORDER BY date_submitted DESC, id DESC LIMIT {limit + 1}", parameters, limit);
    }

    /// <summary>The WHERE clause and parameters of a history query.</summary>
    public static (string Where, List<(string Name, object Value)> Parameters) Filter(TaskQuery q)
    {
        var clauses = new List<string>();
        var parameters = new List<(string, object)>();
        string P(object value)
        {
            var name = $"@p{parameters.Count}";
            parameters.Add((name, value));
            return name;
        }
        if (q.State is { } state)
        {
            clauses.Add($"state = {P(state.ToWire())}");
        }
        if (q.Verdict is not null)
        {
            clauses.Add($"verdict = {P(q.Verdict)}");
        }
        if (q.TaskName is not null)
        {
            clauses.Add($"task_name = {P(q.TaskName)}");
        }
        if (q.Queue is not null)
        {
            clauses.Add($"queue = {P(q.Queue)}");
        }
        if (q.Owner is not null)
        {
            clauses.Add($"owner = {P(q.Owner)}");
        }
        if (q.ScheduleName is not null)
        {
            clauses.Add($"schedule_name = {P(q.ScheduleName)}");
        }
        if (q.Since is { } since)
        {
            clauses.Add($"date_submitted >= {P(since.ToUnixTimeMilliseconds())}");
        }
        if (q.Until is { } until)
        {
            clauses.Add($"date_submitted < {P(until.ToUnixTimeMilliseconds())}");
        }
        if (q.Target is { Length: > 0 } target)
        {
            // LIKE with an escape character works alike in SQLite and PostgreSQL (ILIKE and instr do not); both
            // sides lower-cased so the match ignores case in both. % and _ typed by the user match themselves.
            var pattern = "%" + target.ToLowerInvariant().Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_") + "%";
            clauses.Add($"lower(arguments) LIKE {P(pattern)} ESCAPE '\\'");
        }
        if (q.After is { } after)
        {
            var ms = P(after.Submitted.ToUnixTimeMilliseconds());
            var id = P(after.Id.ToString());
            clauses.Add($"(date_submitted < {ms} OR (date_submitted = {ms} AND id < {id}))");
        }
        return (clauses.Count == 0 ? "" : "WHERE " + string.Join(" AND ", clauses), parameters);
    }

    /// <summary>Turns the rows of a history query (asked for limit + 1) into a page.</summary>
    public static TaskPage ToPage(List<TaskRecord> rows, int limit)
    {
        if (rows.Count <= limit)
        {
            return new TaskPage(rows, null);
        }
        rows.RemoveRange(limit, rows.Count - limit);
        var last = rows[^1];
        return new TaskPage(rows, new TaskCursor(last.Submitted, last.Id));
    }

    /// <summary>The limit a query actually uses: its own, clamped to 1..<see cref="TaskQuery.MaxLimit"/>.</summary>
    public static int EffectiveLimit(TaskQuery q) => Math.Clamp(q.Limit, 1, TaskQuery.MaxLimit);
}
