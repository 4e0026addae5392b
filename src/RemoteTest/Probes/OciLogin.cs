namespace RemoteTest.Probes;

/// <summary>
/// The two OCI-P login forms. <c>LoginRequest14sp4</c>: AuthenticationRequest for a nonce, then the password signed
/// md5(nonce:sha1(password)) (MD5 is the only passwordAlgorithm the schema allows). <c>LoginRequest22V5</c>: the
/// password itself, which the schema names as 14sp4's replacement and which ADPs take over TLS (2209) where signed
/// 14sp4 logins were reported to fail; it is only ever sent inside TLS.
/// </summary>
public static class OciLogin
{
    public const string Signed14sp4 = "LoginRequest14sp4";
    public const string Plain22V5 = "LoginRequest22V5";

    /// <summary>A login that was accepted: the server's loginType and, for 14sp4, the password algorithm it asked for.</summary>
    public sealed record Accepted(string Form, string? LoginType, string? Algorithm);

    /// <summary>
    /// Runs one login form over <paramref name="exchange"/> (send a command, read its answer). An ErrorResponse is an
    /// <see cref="ErrorKind.AuthFailed"/> failure (the caller may try the next form); anything else unexpected is a
    /// protocol error. Failure texts are the server's words unredacted: the caller redacts and shortens them.
    /// </summary>
    /// <returns>The accepted login or the failure, and the passwordAlgorithm the server asked for (14sp4), either way.</returns>
    public static async Task<(Accepted? Login, ProbeFailure? Failure, string? Algorithm)> RunAsync(string form, OciLoginRequest request,
        Func<string, (string, string)[], Task<OciCommand>> exchange)
    {
        if (form == Plain22V5)
        {
            if (!request.UseTls)
            {
                return (null, new ProbeFailure("LoginRequest22V5 would send the password in clear: only over TLS", ErrorKind.ProtocolError), null);
            }
            var login22 = await exchange(Plain22V5, [("userId", request.UserId), ("password", request.Password)]);
            return Judge(form, login22, null);
        }

        var auth = await exchange("AuthenticationRequest", [("userId", request.UserId)]);
        if (auth.IsError)
        {
            return (null, new ProbeFailure($"AuthenticationRequest rejected: {auth.ErrorText()}", ErrorKind.AuthFailed), null);
        }
        var nonce = auth.Field("nonce");
        var algorithm = auth.Field("passwordAlgorithm");
        if (auth.Type != "AuthenticationResponse" || string.IsNullOrEmpty(nonce))
        {
            return (null, new ProbeFailure($"expected AuthenticationResponse with a nonce, got {auth.Type}", ErrorKind.ProtocolError), algorithm);
        }
        var signed = OciPassword.Sign(nonce, request.Password, algorithm);
        var login = await exchange(Signed14sp4, [("userId", request.UserId), ("signedPassword", signed)]);
        return Judge(form, login, algorithm);
    }

    private static (Accepted?, ProbeFailure?, string?) Judge(string form, OciCommand login, string? algorithm)
    {
        if (login.IsError)
        {
            return (null, new ProbeFailure($"{form} rejected: {login.ErrorText()}", ErrorKind.AuthFailed), algorithm);
        }
        if (!login.Type.StartsWith("LoginResponse", StringComparison.Ordinal))
        {
            return (null, new ProbeFailure($"expected {form.Replace("Request", "Response", StringComparison.Ordinal)}, got {login.Type}", ErrorKind.ProtocolError), algorithm);
        }
        return (new Accepted(form, login.Field("loginType"), algorithm), null, algorithm);
    }
}
