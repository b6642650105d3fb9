package io.quiver.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;
import io.vertx.core.Future;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

class ApiKeyAuthenticatorTest {
  private final ApiKeyAuthenticator auth = new ApiKeyAuthenticator("k-own:acme:read+write+admin, k-read:acme:read,k-def:beta");

  @Test
  void acceptsAKeyFromEitherHeaderAndBindsItsTenantAndScopes() {
    Principal viaHeader = auth.authenticate(new Authenticator.Credentials("k-read", null)).result();
    assertThat(viaHeader).isEqualTo(new Principal("acme", EnumSet.of(Scope.READ)));
    Principal viaBearer = auth.authenticate(new Authenticator.Credentials(null, "Bearer k-own")).result();
    assertThat(viaBearer.scopes()).containsExactlyInAnyOrder(Scope.READ, Scope.WRITE, Scope.ADMIN);
  }

  @Test
  void leavingOutScopesMeansReadAndWrite() {
    assertThat(auth.authenticate(new Authenticator.Credentials("k-def", null)).result())
        .isEqualTo(new Principal("beta", EnumSet.of(Scope.READ, Scope.WRITE)));
  }

  @Test
  void refusesMissingAndUnknownKeysAsUnauthorized() {
    assertUnauthorized(auth.authenticate(new Authenticator.Credentials(null, null)));
    assertUnauthorized(auth.authenticate(new Authenticator.Credentials("k-own-but-longer", null)));
    assertUnauthorized(auth.authenticate(new Authenticator.Credentials(null, "Basic k-own")));
  }

  @Test
  void rejectsAMalformedKeyTableWithoutEchoingTheKey() {
    assertThatThrownBy(() -> ApiKeyAuthenticator.parse("secret-key-1:acme:read+fly"))
        .hasMessageContaining("entry 1").hasMessageContaining("fly").hasMessageNotContaining("secret-key-1");
    assertThatThrownBy(() -> ApiKeyAuthenticator.parse("a:t1,a:t2")).hasMessageContaining("repeats");
    assertThatThrownBy(() -> ApiKeyAuthenticator.parse("a:bad tenant")).hasMessageContaining("tenant");
    assertThatThrownBy(() -> ApiKeyAuthenticator.parse("justakey")).hasMessageContaining("key:tenant");
  }

  private static void assertUnauthorized(Future<Principal> f) {
    assertThat(f.failed()).isTrue();
    assertThat(((QuiverException) f.cause()).code()).isEqualTo(ErrorCode.UNAUTHORIZED);
  }
}
