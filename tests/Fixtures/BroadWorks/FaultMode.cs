namespace RemoteTest.Fixtures.BroadWorks;

/// <summary>How a fake BroadWorks server misbehaves, so tests can see each failure turned into a clear result.</summary>
public enum FaultMode
{
    /// <summary>Answers like a healthy server.</summary>
    None,

    /// <summary>HTTP 500 (with a SOAP fault on the SOAP endpoint).</summary>
    Status500,

    /// <summary>Answers with bytes that are not the expected XML.</summary>
    Garbage,

    /// <summary>Starts a response document and closes the connection in the middle of it.</summary>
    CloseMidDocument,

    /// <summary>Accepts the request and never answers.</summary>
    NeverAnswer,

    /// <summary>HTTP 404 on every path (the application is not deployed).</summary>
    NotFound,

    /// <summary>HTTP 302 to somewhere else.</summary>
    Redirect,

    /// <summary>Errors that quote the request back, credentials included (some SOAP stacks do).</summary>
    EchoRequest,
}
