package io.quiver.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;
import io.vertx.core.Future;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class AdmissionTest {
  private static final Authenticator.Credentials READER = new Authenticator.Credentials("k-read", null);
  private static final Authenticator.Credentials WRITER = new Authenticator.Credentials("k-write", null);

  private final ApiKeyAuthenticator keys = new ApiKeyAuthenticator("k-read:acme:read,k-write:acme:read+write");

  @Test
  void shedsWithOverloadedOnceMaxRequestsAreInFlightAndAdmitsAgainAfterARelease() {
    Admission admission = new Admission(keys, new RateLimits(0, 0, Duration.ofHours(1), null), new InFlightLimit(2));
    InFlightLimit.Permit a = admission.enter();
    admission.enter();
    assertThatThrownBy(admission::enter).isInstanceOfSatisfying(RejectedException.class,
        e -> assertThat(e.code()).isEqualTo(ErrorCode.OVERLOADED));
    a.release();
    a.release();
    assertThat(admission.inFlight().inFlight()).isEqualTo(1);
    admission.enter();
    assertThat(admission.inFlight().inFlight()).isEqualTo(2);
  }

  @Test
  void aRequestRefusedByTheGatewayRateDoesNotKeepItsInFlightSlot() {
    Admission admission = new Admission(keys, new RateLimits(0, 1, Duration.ofHours(1), null), new InFlightLimit(5));
    admission.enter();
    assertThatThrownBy(admission::enter).isInstanceOfSatisfying(RejectedException.class,
        e -> assertThat(e.code()).isEqualTo(ErrorCode.RATE_LIMITED));
    assertThat(admission.inFlight().inFlight()).isEqualTo(1);
  }

  @Test
  void refusesATooSmallScopeWithForbiddenBeforeSpendingTheTenantRate() {
    Admission admission = new Admission(keys, new RateLimits(1, 0, Duration.ofHours(1), null), new InFlightLimit(0));
    assertThat(code(admission.authorize(READER, Scope.WRITE))).isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(admission.authorize(READER, Scope.READ).succeeded()).isTrue();
    assertThat(code(admission.authorize(WRITER, Scope.READ))).isEqualTo(ErrorCode.RATE_LIMITED);
  }

  private static ErrorCode code(Future<?> f) {
    assertThat(f.failed()).isTrue();
    return ((QuiverException) f.cause()).code();
  }
}
