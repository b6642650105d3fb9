package io.quiver.gateway;

import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

/**
 * Turns the credentials of a request (REST headers or gRPC metadata, the same names in both) into
 * a {@link Principal}, or fails with {@code unauthorized}. One per gateway, chosen by
 * {@link GatewayOptions#authMode()}. Implementations are thread-safe and never block.
 */
public interface Authenticator {
  String API_KEY_HEADER = "x-api-key";
  String AUTHORIZATION_HEADER = "authorization";

  /** The raw credential headers of one request; either may be null. */
  record Credentials(String apiKey, String authorization) {
    /** The token of {@code Authorization: Bearer <token>}, or null. */
    public String bearer() {
      if (authorization == null) {
        return null;
      }
      String a = authorization.trim();
      if (a.length() > 7 && a.regionMatches(true, 0, "Bearer ", 0, 7)) {
        String token = a.substring(7).trim();
        return token.isEmpty() ? null : token;
      }
      return null;
    }
  }

  Future<Principal> authenticate(Credentials credentials);

  static Authenticator create(Vertx vertx, GatewayOptions options) {
    return switch (options.authMode()) {
      case GatewayOptions.AUTH_API_KEY -> new ApiKeyAuthenticator(options.apiKeys());
      case GatewayOptions.AUTH_JWT -> new JwtAuthenticator(vertx, options.jwtSecret(), options.jwtPublicKey());
      default -> open();
    };
  }

  /** Auth mode {@code none}: everyone is tenant {@code default} with every scope. */
  static Authenticator open() {
    Future<Principal> everyone = Future.succeededFuture(new Principal(GatewayOptions.DEFAULT_TENANT, Scope.all()));
    return credentials -> everyone;
  }

  static QuiverException unauthorized(String message) {
    return new QuiverException(ErrorCode.UNAUTHORIZED, message);
  }
}
