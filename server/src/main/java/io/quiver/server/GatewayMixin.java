package io.quiver.server;

import io.quiver.gateway.GatewayOptions;
import picocli.CommandLine.Option;

/** Gateway protection settings; each flag also reads its {@code QUIVER_*} variable (flag wins). */
final class GatewayMixin {
  @Option(names = "--auth-mode", defaultValue = "${env:QUIVER_AUTH_MODE:-none}",
      description = "none, api_key or jwt (env QUIVER_AUTH_MODE).")
  String authMode;

  @Option(names = "--api-keys", defaultValue = "${env:QUIVER_API_KEYS:-}",
      description = "Comma-separated key:tenant[:read+write+admin] entries (env QUIVER_API_KEYS).")
  String apiKeys;

  @Option(names = "--jwt-secret", defaultValue = "${env:QUIVER_JWT_SECRET:-}",
      description = "HS256 secret, at least 32 characters (env QUIVER_JWT_SECRET).")
  String jwtSecret;

  @Option(names = "--jwt-public-key", defaultValue = "${env:QUIVER_JWT_PUBLIC_KEY:-}",
      description = "RS256 public key, PEM text or file (env QUIVER_JWT_PUBLIC_KEY).")
  String jwtPublicKey;

  @Option(names = "--rate-limit-rps", defaultValue = "${env:QUIVER_RATE_LIMIT_RPS:-0}",
      description = "Requests per second per tenant, 0 = off (env QUIVER_RATE_LIMIT_RPS).")
  int tenantRateLimitRps;

  @Option(names = "--gateway-rate-limit-rps", defaultValue = "${env:QUIVER_GATEWAY_RATE_LIMIT_RPS:-0}",
      description = "Requests per second for this gateway, 0 = off (env QUIVER_GATEWAY_RATE_LIMIT_RPS).")
  int gatewayRateLimitRps;

  @Option(names = "--max-in-flight", defaultValue = "${env:QUIVER_MAX_IN_FLIGHT:-" + GatewayOptions.DEFAULT_MAX_IN_FLIGHT + "}",
      description = "Concurrent requests before 503 overloaded, 0 = unlimited (env QUIVER_MAX_IN_FLIGHT).")
  int maxInFlight;

  @Option(names = "--gateway-event-loops", defaultValue = "${env:QUIVER_GATEWAY_EVENT_LOOPS:-0}",
      description = "Gateway instances (event loops) sharing the public ports, 0 = one per core (env QUIVER_GATEWAY_EVENT_LOOPS).")
  int gatewayEventLoops;

  @Option(names = "--request-timeout-ms", defaultValue = "${env:QUIVER_REQUEST_TIMEOUT_MS:-5000}",
      description = "Default request deadline; clients may lower it (env QUIVER_REQUEST_TIMEOUT_MS).")
  long requestTimeoutMs;

  @Option(names = "--breaker-failure-rate", defaultValue = "${env:QUIVER_BREAKER_FAILURE_RATE:-50}",
      description = "Failure percentage that opens a shard's breaker (env QUIVER_BREAKER_FAILURE_RATE).")
  int breakerFailureRate;

  @Option(names = "--breaker-open-ms", defaultValue = "${env:QUIVER_BREAKER_OPEN_MS:-5000}",
      description = "How long an open breaker fails fast before probing (env QUIVER_BREAKER_OPEN_MS).")
  long breakerOpenMs;

  @Option(names = "--tls-cert", defaultValue = "${env:QUIVER_TLS_CERT:-}",
      description = "PEM certificate for TLS on the public ports (env QUIVER_TLS_CERT).")
  String tlsCert;

  @Option(names = "--tls-key", defaultValue = "${env:QUIVER_TLS_KEY:-}",
      description = "PEM private key for TLS on the public ports (env QUIVER_TLS_KEY).")
  String tlsKey;

  GatewayOptions apply(GatewayOptions o) {
    return o.authMode(authMode).apiKeys(apiKeys).jwtSecret(jwtSecret).jwtPublicKey(jwtPublicKey)
        .tenantRateLimitRps(tenantRateLimitRps).gatewayRateLimitRps(gatewayRateLimitRps).maxInFlight(maxInFlight)
        .requestTimeoutMs(requestTimeoutMs).breakerFailureRate(breakerFailureRate).breakerOpenMs(breakerOpenMs)
        .tlsCertPath(tlsCert).tlsKeyPath(tlsKey)
        .eventLoops(gatewayEventLoops == 0 ? GatewayOptions.DEFAULT_EVENT_LOOPS : gatewayEventLoops);
  }
}
