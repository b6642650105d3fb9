package io.quiver.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The driver's accounting under a fake clock: no timers, no sleeping. */
class LoadDriverTest {

  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);

  private final AtomicLong clock = new AtomicLong(1_000 * MS);
  private final List<Promise<Reply>> pending = new ArrayList<>();
  private final LoadDriver.Workload workload = seq -> {
    Promise<Reply> p = Promise.promise();
    pending.add(p);
    return new LoadDriver.Request("op", p.future());
  };

  private void advance(long millis) {
    clock.addAndGet(millis * MS);
  }

  @Test
  void openLoopMeasuresLatencyFromTheIntendedSendTime() {
    PhaseStats stats = new PhaseStats("p");
    // 1000/s for 10 ms: requests intended at 0, 1, ..., 9 ms
    LoadDriver driver = new LoadDriver(new LoadDriver.OpenLoop(1000), new LoadDriver.Limits(10 * MS, 0), workload,
        stats, clock::get, 1000);
    driver.begin();
    driver.tick();
    assertThat(pending).hasSize(1); // request 0 is due at once

    advance(5); // the client stalls for 5 ms: requests 1..5 are late, not skipped
    driver.tick();
    assertThat(pending).hasSize(6);

    advance(1); // t = 6 ms: everything completes now
    pending.forEach(p -> p.complete(Reply.success(200, null)));

    // latencies from intended times 0..5 ms to 6 ms: 6, 5, 4, 3, 2, 1 ms
    OpStats op = stats.op("op");
    Report.OpReport r = op.toReport(1);
    assertThat(r.ok()).isEqualTo(6);
    assertThat(r.latency().maxMs()).isCloseTo(6.0, org.assertj.core.data.Offset.offset(0.01));
    assertThat(r.latency().meanMs()).isCloseTo(3.5, org.assertj.core.data.Offset.offset(0.01));
    assertThat(driver.done().isComplete()).isFalse();
  }

  @Test
  void openLoopStopsAtTheEndOfTheDurationAndFinishesWhenDrained() {
    PhaseStats stats = new PhaseStats("p");
    LoadDriver driver = new LoadDriver(new LoadDriver.OpenLoop(1000), new LoadDriver.Limits(10 * MS, 0), workload,
        stats, clock::get, 1000);
    driver.begin();
    advance(50);
    driver.tick();
    assertThat(pending).hasSize(10); // only the 10 intended within the 10 ms window
    assertThat(driver.sendingFinished()).isTrue();
    assertThat(driver.done().isComplete()).isFalse();

    pending.subList(0, 9).forEach(p -> p.complete(Reply.success(200, null)));
    assertThat(driver.done().isComplete()).isFalse();
    pending.get(9).complete(Reply.failure(503, "overloaded", null));
    assertThat(driver.done().isComplete()).isTrue();

    Report.OpReport r = stats.op("op").toReport(driver.elapsedSeconds());
    assertThat(r.sent()).isEqualTo(10);
    assertThat(r.ok() + r.errors()).isEqualTo(r.sent());
    assertThat(r.errorsByCode()).containsEntry("overloaded", 1L);
    assertThat(r.errorsByStatus()).containsEntry("503", 1L);
    assertThat(r.consistent()).isTrue();
  }

  @Test
  void openLoopCountsSendsBeyondTheInFlightCapAsClientBacklog() {
    PhaseStats stats = new PhaseStats("p");
    LoadDriver driver = new LoadDriver(new LoadDriver.OpenLoop(1000), new LoadDriver.Limits(0, 5), workload, stats,
        clock::get, 2);
    driver.begin();
    advance(10);
    driver.tick();
    assertThat(pending).hasSize(2);
    Report.OpReport r = stats.op("op").toReport(1);
    assertThat(r.sent()).isEqualTo(5);
    assertThat(r.errorsByCode()).containsEntry(Reply.CLIENT_BACKLOG, 3L);
  }

  @Test
  void closedLoopKeepsConcurrencyRequestsInFlightAndStopsAtTheCount() {
    PhaseStats stats = new PhaseStats("p");
    LoadDriver driver = new LoadDriver(new LoadDriver.ClosedLoop(3), new LoadDriver.Limits(0, 7), workload, stats,
        clock::get, 1000);
    driver.begin();
    assertThat(pending).hasSize(3);
    advance(2);
    pending.get(0).complete(Reply.success(200, null)); // measured from its actual send: 2 ms
    assertThat(pending).hasSize(4);
    assertThat(driver.inFlight()).isEqualTo(3);
    for (int i = 1; i < 7; i++) {
      pending.get(i).complete(Reply.success(200, null));
    }
    assertThat(pending).hasSize(7);
    assertThat(driver.done().isComplete()).isTrue();
    Report.OpReport r = stats.op("op").toReport(1);
    assertThat(r.sent()).isEqualTo(7);
    assertThat(r.ok()).isEqualTo(7);
    assertThat(r.latency().maxMs()).isCloseTo(2.0, org.assertj.core.data.Offset.offset(0.01));
  }

  @Test
  void closedLoopSurvivesRepliesThatCompleteSynchronously() {
    PhaseStats stats = new PhaseStats("p");
    LoadDriver driver = new LoadDriver(new LoadDriver.ClosedLoop(2), new LoadDriver.Limits(0, 100_000),
        seq -> new LoadDriver.Request("op", Future.succeededFuture(Reply.success(200, null))), stats, clock::get, 10);
    driver.begin(); // would overflow the stack if chains recursed
    assertThat(driver.done().isComplete()).isTrue();
    assertThat(stats.op("op").ok()).isEqualTo(100_000);
  }

  @Test
  void recallOfSuccessfulRepliesIsAveraged() {
    PhaseStats stats = new PhaseStats("p");
    double[] recalls = {1.0, 0.5};
    LoadDriver driver = new LoadDriver(new LoadDriver.ClosedLoop(1), new LoadDriver.Limits(0, 2),
        seq -> new LoadDriver.Request("search", Future.succeededFuture(Reply.success(200, null)),
            r -> recalls[(int) seq]), stats, clock::get, 10);
    driver.begin();
    assertThat(stats.op("search").toReport(1).recall()).isEqualTo(0.75);
  }
}
