package io.quiver.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.security.KeyPair;
import java.util.EnumSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class JwtAuthenticatorTest {
  private static Vertx vertx;
  private static KeyPair rsa;
  private static JwtAuthenticator hs;
  private static JwtAuthenticator rs;

  @BeforeAll
  static void setUp() {
    vertx = Vertx.vertx();
    rsa = Tokens.rsaKeys();
    hs = new JwtAuthenticator(vertx, Tokens.SECRET, "");
    rs = new JwtAuthenticator(vertx, "", Tokens.publicKeyPem(rsa));
  }

  @AfterAll
  static void tearDown() {
    vertx.close().await();
  }

  @Test
  void acceptsAValidHs256TokenWithTenantAndScopes() {
    Principal p = authenticate(hs, Tokens.hs256(Tokens.claims("acme", "read write"), Tokens.SECRET)).await();
    assertThat(p).isEqualTo(new Principal("acme", EnumSet.of(Scope.READ, Scope.WRITE)));
  }

  @Test
  void readsScopesFromAnArrayClaimAndIgnoresUnknownNames() {
    JsonObject claims = Tokens.claims("acme", null).put("scopes", new JsonArray().add("admin").add("fly"));
    claims.remove("scope");
    assertThat(authenticate(hs, Tokens.hs256(claims, Tokens.SECRET)).await().scopes()).containsExactly(Scope.ADMIN);
  }

  @Test
  void acceptsAValidRs256Token() {
    assertThat(authenticate(rs, Tokens.rs256(Tokens.claims("acme", "read"), rsa)).await().tenant()).isEqualTo("acme");
  }

  @Test
  void refusesAnExpiredToken() {
    JsonObject claims = Tokens.claims("acme", "read").put("exp", Tokens.nowSeconds() - 30);
    assertUnauthorized(authenticate(hs, Tokens.hs256(claims, Tokens.SECRET)));
  }

  @Test
  void refusesAForgedSignature() {
    assertUnauthorized(authenticate(hs, Tokens.hs256(Tokens.claims("acme", "read admin"), "another-secret-of-32-characters-or-more")));
    assertUnauthorized(authenticate(rs, Tokens.rs256(Tokens.claims("acme", "read"), Tokens.rsaKeys())));
  }

  @Test
  void refusesAlgNone() {
    assertUnauthorized(authenticate(hs, Tokens.none(Tokens.claims("acme", "read write admin"))));
    assertUnauthorized(authenticate(rs, Tokens.none(Tokens.claims("acme", "read write admin"))));
  }

  @Test
  void refusesAnHs256TokenSignedWithThePublicKeyOfAnRs256Gateway() {
    // The classic algorithm confusion: the public key is no secret.
    assertUnauthorized(authenticate(rs, Tokens.hs256(Tokens.claims("acme", "admin"), Tokens.publicKeyPem(rsa))));
  }

  @Test
  void refusesATokenWithoutTenantAndGarbage() {
    JsonObject claims = Tokens.claims("acme", "read");
    claims.remove("tenant");
    assertUnauthorized(authenticate(hs, Tokens.hs256(claims, Tokens.SECRET)));
    assertUnauthorized(authenticate(hs, "not.a.jwt"));
    assertUnauthorized(authenticate(hs, "%%%"));
    assertUnauthorized(hs.authenticate(new Authenticator.Credentials(null, null)));
  }

  private static Future<Principal> authenticate(JwtAuthenticator auth, String token) {
    return auth.authenticate(new Authenticator.Credentials(null, "Bearer " + token));
  }

  private static void assertUnauthorized(Future<Principal> f) {
    Throwable t = f.transform(ar -> Future.succeededFuture(ar.cause())).await();
    assertThat(t).isInstanceOf(QuiverException.class);
    assertThat(((QuiverException) t).code()).isEqualTo(ErrorCode.UNAUTHORIZED);
  }
}
