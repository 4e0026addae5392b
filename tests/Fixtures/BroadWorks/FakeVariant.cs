namespace RemoteTest.Fixtures.BroadWorks;

/// <summary>
/// Which behaviour a fake BroadWorks server follows where public evidence and the first catalog disagreed (issue 19).
/// </summary>
public enum FakeVariant
{
    /// <summary>
    /// As the evidence says real servers behave: BWCallSettingsWeb answers a GET with 400 "Only HTTP POST supported.",
    /// the DMS challenges with Digest, Xsi-Events streams a channel, OCI-P on TLS takes LoginRequest22V5 only, the
    /// Authentication Service answers only on its mutual-TLS interface.
    /// </summary>
    RealLike,

    /// <summary>
    /// As the first catalog assumed (kept to show what the corrected checks do there): a 200 page for Call Settings, an
    /// open DMS, no event channel, signed 14sp4 logins on TLS, the Authentication Service on the ordinary interfaces.
    /// </summary>
    Assumed,
}
