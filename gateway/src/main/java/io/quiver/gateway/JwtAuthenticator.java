package io.quiver.gateway;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;

/**
 * Auth mode {@code jwt}: verifies {@code Authorization: Bearer <JWT>} with vertx-auth-jwt against an
 * HS256 secret and/or an RS256 public key. The signature and {@code exp} (no leeway) must hold; a
 * token signed with any other algorithm, {@code alg: none} included, is refused because only the
 * configured keys are known to the verifier. Claim {@code tenant} (a string) names the tenant;
 * {@code scope} (space-separated, the OAuth form) and {@code scopes} (array or space-separated
 * string) name the scopes; unknown scope names are ignored. Thread-safe.
 */
public final class JwtAuthenticator implements Authenticator {
  private final JWTAuth jwt;

  public JwtAuthenticator(Vertx vertx, String hs256Secret, String rs256PublicKey) {
    JWTAuthOptions options = new JWTAuthOptions().setJWTOptions(new JWTOptions().setLeeway(0));
    if (hs256Secret != null && !hs256Secret.isEmpty()) {
      options.addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(hs256Secret));
    }
    if (rs256PublicKey != null && !rs256PublicKey.isEmpty()) {
      options.addPubSecKey(new PubSecKeyOptions().setAlgorithm("RS256").setBuffer(pem(rs256PublicKey)));
    }
    if (options.getPubSecKeys().isEmpty()) {
      throw new IllegalArgumentException("jwt auth needs QUIVER_JWT_SECRET or QUIVER_JWT_PUBLIC_KEY");
    }
    this.jwt = JWTAuth.create(vertx, options);
  }

  @Override
  public Future<Principal> authenticate(Credentials credentials) {
    String token = credentials.bearer();
    if (token == null) {
      return Future.failedFuture(Authenticator.unauthorized("missing credentials: send Authorization: Bearer <JWT>"));
    }
    Future<io.vertx.ext.auth.User> user;
    try {
      user = jwt.authenticate(new TokenCredentials(token));
    } catch (RuntimeException e) {
      user = Future.failedFuture(e);
    }
    return user.transform(ar -> {
      if (ar.failed()) {
        return Future.failedFuture(Authenticator.unauthorized("invalid token: " + ar.cause().getMessage()));
      }
      JsonObject claims = ar.result().principal();
      if (!(claims.getValue("tenant") instanceof String tenant) || tenant.isBlank()) {
        return Future.failedFuture(Authenticator.unauthorized("invalid token: no tenant claim"));
      }
      return Future.succeededFuture(new Principal(tenant, scopes(claims)));
    });
  }

  static Set<Scope> scopes(JsonObject claims) {
    Set<Scope> out = EnumSet.noneOf(Scope.class);
    for (String claim : new String[] {"scope", "scopes"}) {
      Object v = claims.getValue(claim);
      if (v instanceof String s) {
        for (String name : s.trim().split("\\s+")) {
          add(out, name);
        }
      } else if (v instanceof JsonArray arr) {
        arr.forEach(x -> add(out, String.valueOf(x)));
      }
    }
    return out;
  }

  private static void add(Set<Scope> out, String name) {
    Scope s = Scope.fromWireName(name);
    if (s != null) {
      out.add(s);
    }
  }

  /** PEM text as given, or read from a file when the setting is a path. */
  private static String pem(String keyOrPath) {
    if (keyOrPath.contains("-----BEGIN")) {
      return keyOrPath;
    }
    try {
      return Files.readString(Path.of(keyOrPath));
    } catch (IOException e) {
      throw new IllegalArgumentException("QUIVER_JWT_PUBLIC_KEY is neither PEM text nor a readable file: " + keyOrPath, e);
    }
  }
}
