package io.quiver.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import io.quiver.cluster.ReadOnlyState;
import io.quiver.common.ErrorCode;
import io.quiver.common.QuiverException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The gateway's read-only check: after auth and rates, only for writes, with the reason. */
class AdmissionReadOnlyTest {
  private static final Authenticator.Credentials ALL = new Authenticator.Credentials("k-all", null);
  private static final Authenticator.Credentials READER = new Authenticator.Credentials("k-read", null);
  private static final ReadOnlyState ON = ReadOnlyState.OFF.next(true, "disk migration", "ops",
      Clock.fixed(Instant.parse("2026-11-20T10:00:00Z"), ZoneOffset.UTC));

  private final AtomicReference<ReadOnlyState> mode = new AtomicReference<>(ReadOnlyState.OFF);
  private final Admission admission = new Admission(new ApiKeyAuthenticator("k-all:acme:read+write+admin,k-read:acme:read"),
      new RateLimits(0, 0, Duration.ofHours(1), null), new InFlightLimit(0), mode::get);

  @Test
  void refusesWritesWithReadOnlyAndTheReasonWhileOnAndAdmitsThemAgainWhenOff() {
    assertThat(admission.authorize(ALL, Scope.WRITE).succeeded()).isTrue();
    mode.set(ON);
    var refused = admission.authorize(ALL, Scope.WRITE);
    assertThat(refused.failed()).isTrue();
    QuiverException e = (QuiverException) refused.cause();
    assertThat(e.code()).isEqualTo(ErrorCode.READ_ONLY);
    assertThat(e.code().httpStatus()).isEqualTo(403);
    assertThat(e.code().grpcStatus()).as("FAILED_PRECONDITION").isEqualTo(9);
    assertThat(e.getMessage()).contains("disk migration").contains("set by ops");
    mode.set(ON.next(false, "", "ops", Clock.systemUTC()));
    assertThat(admission.authorize(ALL, Scope.WRITE).succeeded()).isTrue();
  }

  @Test
  void readsAndAdminCallsPassWhileOn() {
    mode.set(ON);
    assertThat(admission.authorize(ALL, Scope.READ).succeeded()).isTrue();
    assertThat(admission.authorize(ALL, Scope.ADMIN).succeeded()).isTrue();
  }

  @Test
  void credentialsAndScopeAreCheckedBeforeTheMode() {
    mode.set(ON);
    assertThat(((QuiverException) admission.authorize(READER, Scope.WRITE).cause()).code()).isEqualTo(ErrorCode.FORBIDDEN);
    assertThat(((QuiverException) admission.authorize(new Authenticator.Credentials("nope", null), Scope.WRITE).cause()).code())
        .isEqualTo(ErrorCode.UNAUTHORIZED);
  }
}
