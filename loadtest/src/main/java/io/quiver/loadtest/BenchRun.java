package io.quiver.loadtest;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.function.LongSupplier;
import org.HdrHistogram.Histogram;

/**
 * The running state of one bench invocation: the Vert.x instance, the transport, the clock, and the
 * phases and checks collected so far. Scenarios orchestrate on the command thread (blocking on
 * {@link #await}) while the load itself runs on the event loop.
 *
 * <p>Phases and checks are only touched by the command thread; {@link #check} is synchronized so that
 * callbacks may add checks too.
 */
public final class BenchRun {

  private final Vertx vertx;
  private final Transport transport;
  private final LongSupplier clock;
  private final PrintWriter progress;
  private final String startedAt = Instant.now().toString();
  private final List<Report.PhaseReport> phases = new ArrayList<>();
  private final Map<String, Object> checks = new LinkedHashMap<>();
  private boolean failed;

  public BenchRun(Vertx vertx, Transport transport, LongSupplier nanoClock, PrintWriter progress) {
    this.vertx = vertx;
    this.transport = transport;
    this.clock = nanoClock;
    this.progress = progress;
  }

  public Vertx vertx() {
    return vertx;
  }

  public Transport transport() {
    return transport;
  }

  public long now() {
    return clock.getAsLong();
  }

  /** Runs one measured phase to its end and adds it to the report. */
  public Report.PhaseReport phase(String name, LoadDriver.Model model, LoadDriver.Limits limits,
      LoadDriver.Workload workload, long maxInFlight) {
    return phase(name, model, limits, workload, maxInFlight, Map.of(), true);
  }

  /** Runs one phase; {@code record = false} is for warm-up, whose numbers are dropped. */
  public Report.PhaseReport phase(String name, LoadDriver.Model model, LoadDriver.Limits limits,
      LoadDriver.Workload workload, long maxInFlight, Map<String, Object> extra, boolean record) {
    PhaseStats stats = new PhaseStats(name);
    LoadDriver driver = new LoadDriver(model, limits, workload, stats, clock, maxInFlight);
    long timer = progress == null ? -1 : vertx.setPeriodic(1000, 1000, id -> printProgress(stats, driver));
    try {
      await(driver.run(vertx));
    } finally {
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
    }
    Report.PhaseReport report = stats.toReport(driver.elapsedSeconds(), driver.offeredRate(), extra);
    if (record) {
      phases.add(report);
    }
    return report;
  }

  /** Runs the workload for {@code warmup} and discards the numbers. */
  public void warmup(Duration warmup, LoadDriver.Model model, LoadDriver.Workload workload, long maxInFlight) {
    if (warmup != null && !warmup.isZero()) {
      phase("warmup", model, new LoadDriver.Limits(warmup.toNanos(), 0), workload, maxInFlight, Map.of(), false);
    }
  }

  /** Records a named result; {@code ok = false} makes the run fail. */
  public synchronized void check(String name, Object value, boolean ok) {
    checks.put(name, value);
    if (!ok) {
      failed = true;
      checks.put("failed_" + name, true);
    }
  }

  /** Records an informational value that does not decide pass or fail. */
  public synchronized void note(String name, Object value) {
    checks.put(name, value);
  }

  public Report report(String scenario, Map<String, Object> parameters) {
    boolean consistent = phases.stream().flatMap(p -> p.ops().stream()).allMatch(Report.OpReport::consistent);
    // a phase in which nothing succeeded measured nothing (wrong URL, missing collection, ...)
    List<String> empty = phases.stream().filter(p -> p.ops().stream().mapToLong(Report.OpReport::ok).sum() == 0)
        .map(Report.PhaseReport::name).toList();
    synchronized (this) {
      checks.put("counts_consistent", consistent);
      if (!empty.isEmpty()) {
        checks.put("phases_without_success", empty);
      }
      return new Report(scenario, startedAt, parameters, Report.Machine.current(), List.copyOf(phases),
          new LinkedHashMap<>(checks), consistent && empty.isEmpty() && !failed);
    }
  }

  /** A future completed after {@code duration} on the event loop. */
  public Future<Void> delay(Duration duration) {
    Promise<Void> p = Promise.promise();
    vertx.setTimer(Math.max(1, duration.toMillis()), id -> p.complete());
    return p.future();
  }

  /** Blocks the calling (non event-loop) thread until {@code future} completes. */
  public static <T> T await(Future<T> future) {
    try {
      return future.toCompletionStage().toCompletableFuture().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(e.getCause().getMessage(), e.getCause());
    }
  }

  /**
   * Polls {@code GET /ready} until it answers 2xx or {@code timeout} passes; returns whether it did.
   */
  public boolean awaitReady(Duration timeout) {
    long deadline = now() + timeout.toNanos();
    while (true) {
      Reply r = await(transport.ready());
      if (r.ok()) {
        return true;
      }
      if (now() >= deadline) {
        return false;
      }
      await(delay(Duration.ofMillis(200)));
    }
  }

  private void printProgress(PhaseStats stats, LoadDriver driver) {
    long ok = 0;
    Histogram interval = new Histogram(3);
    for (OpStats op : stats.ops()) {
      interval.add(op.drainInterval());
      ok += op.ok();
    }
    progress.printf(Locale.ROOT, "[%6.1fs] %-10s sent %d ok %d err %d | %d ok/s | p50 %.2f ms p99 %.2f ms | in flight %d%n",
        driver.elapsedSeconds(), stats.name(), stats.sent(), ok, stats.errors(), interval.getTotalCount(),
        interval.getValueAtPercentile(50) / 1000.0, interval.getValueAtPercentile(99) / 1000.0, driver.inFlight());
    progress.flush();
  }
}
