package io.quiver.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.data.Offset.offset;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class OpStatsTest {

  @Test
  void percentilesOfKnownSamples() {
    OpStats s = new OpStats("search");
    for (int ms = 1; ms <= 1000; ms++) { // 1 ms .. 1000 ms, once each
      s.recordSent();
      s.recordReply(Reply.success(200, null), TimeUnit.MILLISECONDS.toNanos(ms));
    }
    Report.LatencySummary l = s.toReport(10).latency();
    assertThat(l.count()).isEqualTo(1000);
    assertThat(l.p50Ms()).isCloseTo(500, offset(1.0));
    assertThat(l.p95Ms()).isCloseTo(950, offset(1.0));
    assertThat(l.p99Ms()).isCloseTo(990, offset(1.0));
    assertThat(l.p999Ms()).isCloseTo(999, offset(1.0));
    assertThat(l.maxMs()).isCloseTo(1000, offset(1.0));
    assertThat(l.meanMs()).isCloseTo(500.5, offset(0.5));
    assertThat(s.toReport(10).throughput()).isEqualTo(100.0);
  }

  @Test
  void errorsAreCountedByCodeAndStatusAndKeptOutOfTheSuccessLatency() {
    OpStats s = new OpStats("upsert");
    s.recordSent();
    s.recordReply(Reply.success(200, null), TimeUnit.MILLISECONDS.toNanos(50));
    s.recordSent();
    s.recordReply(Reply.failure(429, "rate_limited", null), TimeUnit.MILLISECONDS.toNanos(1));
    s.recordSent();
    s.recordReply(Reply.failure(503, "overloaded", null), TimeUnit.MILLISECONDS.toNanos(2));
    s.recordSent();
    s.recordReply(Reply.clientError(Reply.CLIENT_TIMEOUT), TimeUnit.SECONDS.toNanos(5));

    Report.OpReport r = s.toReport(1);
    assertThat(r.sent()).isEqualTo(4);
    assertThat(r.ok()).isEqualTo(1);
    assertThat(r.errors()).isEqualTo(3);
    assertThat(r.errorsByCode()).containsEntry("rate_limited", 1L).containsEntry("overloaded", 1L)
        .containsEntry("client_timeout", 1L);
    assertThat(r.errorsByStatus()).containsEntry("429", 1L).containsEntry("503", 1L).containsEntry("0", 1L);
    assertThat(r.latency().maxMs()).isCloseTo(50, offset(0.1));
    assertThat(r.errorLatency().count()).isEqualTo(3);
    assertThat(r.consistent()).isTrue();
  }

  @Test
  void intervalDrainsDoNotLoseSamplesFromTheTotal() {
    OpStats s = new OpStats("op");
    s.recordSent();
    s.recordReply(Reply.success(200, null), 1_000_000);
    assertThat(s.drainInterval().getTotalCount()).isEqualTo(1);
    s.recordSent();
    s.recordReply(Reply.success(200, null), 2_000_000);
    assertThat(s.drainInterval().getTotalCount()).isEqualTo(1);
    assertThat(s.toReport(1).latency().count()).isEqualTo(2);
  }
}
