package io.quiver.loadtest;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.function.ToDoubleFunction;

/**
 * Drives one phase of load: open loop (requests sent at their {@link OpenLoopSchedule intended times},
 * latency measured from the intended time) or closed loop ({@code concurrency} requests in flight,
 * latency measured from the actual send). It always stops by itself: at the end of the duration or
 * after the request count, then waits for the requests in flight (each bounded by the transport's
 * timeout) before {@link #done()} completes.
 *
 * <p>Time comes from an injected nano clock so that tests advance a fake clock and call {@link #tick()}
 * themselves. Thread-safe: state changes happen under this object's lock; replies may complete on any
 * thread.
 */
public final class LoadDriver {

  /** What to send for request number {@code seq}; the future must never fail. */
  @FunctionalInterface
  public interface Workload {
    Request issue(long seq);
  }

  /**
   * One issued request: the operation name its statistics go under, its reply, and optionally how to
   * score a successful reply's recall@k (NaN = not scored).
   */
  public record Request(String op, Future<Reply> reply, ToDoubleFunction<Reply> recall) {
    public Request(String op, Future<Reply> reply) {
      this(op, reply, null);
    }
  }

  /** How load is offered. */
  public sealed interface Model permits OpenLoop, ClosedLoop {}

  public record OpenLoop(double ratePerSecond) implements Model {}

  public record ClosedLoop(int concurrency) implements Model {
    public ClosedLoop {
      if (concurrency < 1) {
        throw new IllegalArgumentException("concurrency must be >= 1");
      }
    }
  }

  /** Bounds of a phase: 0 means "no bound" for either, but at least one must be set. */
  public record Limits(long durationNanos, long maxRequests) {
    public Limits {
      if (durationNanos <= 0 && maxRequests <= 0) {
        throw new IllegalArgumentException("a phase needs a duration or a request count so that it stops");
      }
    }
  }

  private final Model model;
  private final Limits limits;
  private final Workload workload;
  private final PhaseStats stats;
  private final LongSupplier clock;
  private final long maxInFlight;
  private final Promise<Void> done = Promise.promise();

  private OpenLoopSchedule schedule;
  private long startNanos;
  private long endNanos = -1;
  private long issued;
  private long inFlight;
  private int activeChains;
  private int pendingStarts;
  private boolean draining;
  private boolean sendingFinished;
  private boolean stopRequested;

  public LoadDriver(Model model, Limits limits, Workload workload, PhaseStats stats, LongSupplier nanoClock,
      long maxInFlight) {
    this.model = model;
    this.limits = limits;
    this.workload = workload;
    this.stats = stats;
    this.clock = nanoClock;
    this.maxInFlight = maxInFlight;
  }

  /** Starts the phase on a Vert.x context: a 1 ms timer drives the open-loop schedule. */
  public Future<Void> run(Vertx vertx) {
    vertx.getOrCreateContext().runOnContext(v -> {
      begin();
      if (model instanceof OpenLoop) {
        vertx.setPeriodic(1, 1, id -> {
          tick();
          if (sendingFinished()) {
            vertx.cancelTimer(id);
          }
        });
      }
    });
    return done();
  }

  /** Marks the start of the phase; a closed loop starts its request chains here. */
  public synchronized void begin() {
    startNanos = clock.getAsLong();
    if (model instanceof OpenLoop open) {
      schedule = new OpenLoopSchedule(startNanos, open.ratePerSecond(), limits.durationNanos(), limits.maxRequests());
    } else {
      int c = ((ClosedLoop) model).concurrency();
      activeChains = c;
      for (int i = 0; i < c; i++) {
        continueChain();
      }
    }
  }

  /** Sends every open-loop request that is due now. */
  public synchronized void tick() {
    if (schedule == null || sendingFinished) {
      return;
    }
    long now = clock.getAsLong();
    if (stopRequested) {
      finishSending();
      return;
    }
    schedule.pollDue(now, this::issue);
    if (schedule.exhausted()) {
      finishSending();
    }
  }

  /** Stops sending new requests (requests in flight still complete and count). */
  public synchronized void stop() {
    stopRequested = true;
    if (model instanceof OpenLoop) {
      tick();
    }
  }

  public Future<Void> done() {
    return done.future();
  }

  public synchronized boolean sendingFinished() {
    return sendingFinished;
  }

  public synchronized long inFlight() {
    return inFlight;
  }

  public synchronized long startNanos() {
    return startNanos;
  }

  /** Seconds from the start to the last reply (or to now while running). */
  public synchronized double elapsedSeconds() {
    long end = endNanos >= 0 ? endNanos : clock.getAsLong();
    return (end - startNanos) / 1e9;
  }

  /** The rate the open loop offers, or null for a closed loop. */
  public Double offeredRate() {
    return model instanceof OpenLoop o ? o.ratePerSecond() : null;
  }

  // A closed-loop chain issues its next request when the previous one completes. Replies that complete
  // synchronously would recurse, so starts are queued and drained in a loop (a trampoline).
  private void continueChain() {
    pendingStarts++;
    if (draining) {
      return;
    }
    draining = true;
    try {
      while (pendingStarts > 0) {
        pendingStarts--;
        long now = clock.getAsLong();
        boolean timeLeft = limits.durationNanos() <= 0 || now - startNanos < limits.durationNanos();
        boolean countLeft = limits.maxRequests() <= 0 || issued < limits.maxRequests();
        if (!stopRequested && timeLeft && countLeft) {
          issue(issued, now);
        } else if (--activeChains == 0) {
          finishSending();
        }
      }
    } finally {
      draining = false;
    }
  }

  private void issue(long seq, long intendedNanos) {
    issued = Math.max(issued, seq + 1);
    Request request;
    if (inFlight >= maxInFlight) {
      request = new Request(stats.ops().isEmpty() ? "request" : stats.ops().get(0).op(),
          Future.succeededFuture(Reply.clientError(Reply.CLIENT_BACKLOG)));
    } else {
      try {
        request = workload.issue(seq);
      } catch (RuntimeException e) {
        System.err.println("bench: workload failed to build request " + seq + ": " + e);
        request = new Request("request", Future.succeededFuture(Reply.clientError("client_exception")));
      }
    }
    OpStats op = stats.op(request.op());
    op.recordSent();
    inFlight++;
    Request r = request;
    request.reply().onComplete(ar -> complete(op, r, ar.succeeded() ? ar.result() : Reply.clientError("client_exception"),
        intendedNanos));
  }

  private synchronized void complete(OpStats op, Request request, Reply reply, long intendedNanos) {
    long now = clock.getAsLong();
    op.recordReply(reply, now - intendedNanos);
    if (reply.ok() && request.recall() != null) {
      double recall = request.recall().applyAsDouble(reply);
      if (!Double.isNaN(recall)) {
        op.recordRecall(recall);
      }
    }
    inFlight--;
    if (model instanceof ClosedLoop) {
      continueChain();
    }
    maybeDone(now);
  }

  private void finishSending() {
    sendingFinished = true;
    maybeDone(clock.getAsLong());
  }

  private void maybeDone(long now) {
    if (sendingFinished && inFlight == 0 && endNanos < 0) {
      endNanos = now;
      done.tryComplete();
    }
  }

  /** Converts seconds to nanoseconds for {@link Limits}. */
  public static long seconds(double s) {
    return (long) (s * TimeUnit.SECONDS.toNanos(1));
  }
}
