package io.quiver.loadtest;

import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bench chaos}: starts --shards shard processes from --shard-cmd, writes fresh points while it
 * SIGKILLs one shard (round robin) every --kill-every and restarts it --restart-delay later, then
 * restarts anything still down, waits for /ready and reads back every write that was acknowledged with
 * 2xx. An acknowledged write that is missing (404) or has other values is lost: the run fails. Writes
 * that failed are not checked (the contract allows them either way).
 *
 * <p>The gateway at --url is not started by this tool (start it yourself, or let --shard-cmd start
 * whatever is needed); requests still only go to --url.
 */
@Command(name = "chaos", mixinStandardHelpOptions = true,
    description = "Kill and restart shard processes under write load; verify every acknowledged write afterwards.")
public final class ChaosScenario extends ScenarioCommand {

  @Option(names = "--shards", defaultValue = "3", description = "Shard processes to start (default ${DEFAULT-VALUE}).")
  int shards;

  @Option(names = "--shard-cmd", required = true,
      description = "Command template for one shard, run with sh -c; {i} is replaced by the shard index and QUIVER_SHARD_ID is set, e.g. 'bin/quiver shard --data data/s{i}'.")
  String shardCmd;

  @Option(names = "--kill-every", defaultValue = "10s", converter = DurationConverter.class,
      description = "Kill one shard this often (default ${DEFAULT-VALUE}).")
  Duration killEvery;

  @Option(names = "--restart-delay", defaultValue = "1s", converter = DurationConverter.class,
      description = "How long a killed shard stays down (default ${DEFAULT-VALUE}).")
  Duration restartDelay;

  @Option(names = "--ready-timeout", defaultValue = "60s", converter = DurationConverter.class,
      description = "How long to wait for GET /ready before writing and before verifying (default ${DEFAULT-VALUE}).")
  Duration readyTimeout;

  @Option(names = "--log-dir", defaultValue = "target/bench-chaos", description = "Shard output goes here (default ${DEFAULT-VALUE}).")
  Path logDir;

  @Option(names = "--batch", defaultValue = "16", description = "Points per write (default ${DEFAULT-VALUE}).")
  int batch;

  @Option(names = "--id-base", defaultValue = "2000000000", description = "First id of the fresh points written (default ${DEFAULT-VALUE}).")
  long idBase;

  @Option(names = "--verify-concurrency", defaultValue = "16", description = "Concurrent GETs while verifying (default ${DEFAULT-VALUE}).")
  int verifyConcurrency;

  @Override
  protected void validate() {
    super.validate();
    if (shards < 1 || killEvery.isZero() || batch < 1 || verifyConcurrency < 1) {
      throw new IllegalArgumentException("need --shards >= 1, --kill-every > 0, --batch >= 1, --verify-concurrency >= 1");
    }
  }

  @Override
  protected void execute(BenchRun run) throws Exception {
    Dataset d = dataset();
    Duration duration = orDefault(load.duration, Duration.ofSeconds(60));
    try (ShardProcesses processes = new ShardProcesses(shardCmd, shards, logDir)) {
      Thread hook = new Thread(processes::close, "bench-chaos-cleanup");
      Runtime.getRuntime().addShutdownHook(hook);
      try {
        processes.startAll();
        boolean ready = run.awaitReady(readyTimeout);
        run.check("ready_before_writes", ready, ready);
        ensureCollection(run, false);

        ConcurrentLinkedQueue<long[]> acked = new ConcurrentLinkedQueue<>();
        LoadDriver.Workload writes = Workloads.freshWrites(run.transport(), collection.name, d, batch, idBase,
            new Workloads.WriteListener() {
              @Override
              public long now() {
                return run.now();
              }

              @Override
              public void onReply(long[] ids, Reply reply, long sentNanos) {
                if (reply.ok()) {
                  acked.add(ids);
                }
              }
            });
        AtomicInteger victim = new AtomicInteger();
        long timer = run.vertx().setPeriodic(killEvery.toMillis(), killEvery.toMillis(), id -> {
          int i = victim.getAndIncrement() % shards;
          run.vertx().executeBlocking(() -> {
            processes.kill(i);
            return null;
          }, false).onComplete(v -> run.vertx().setTimer(Math.max(1, restartDelay.toMillis()),
              t -> run.vertx().executeBlocking(() -> {
                processes.start(i);
                return null;
              }, false)));
        });
        try {
          run.phase("writes", load.model(8), load.limits(duration, 0), writes, load.maxInFlight);
        } finally {
          run.vertx().cancelTimer(timer);
        }
        processes.startAll(); // whatever is still down comes back before verification
        run.note("kills", processes.kills());
        run.note("starts", processes.starts());
        boolean readyAgain = run.awaitReady(readyTimeout);
        run.check("ready_before_verify", readyAgain, readyAgain);
        verify(run, d, acked);
      } finally {
        try {
          Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException shuttingDown) {
          // the hook runs anyway
        }
      }
    }
  }

  /** How long verification keeps asking for one point answered 503 (see {@link #getWithRetry}). */
  static final Duration VERIFY_RETRY_FOR = Duration.ofSeconds(15);

  private void verify(BenchRun run, Dataset d, ConcurrentLinkedQueue<long[]> acked) {
    List<Long> ids = new ArrayList<>();
    acked.forEach(batchIds -> {
      for (long id : batchIds) {
        ids.add(id);
      }
    });
    LongAdder verified = new LongAdder();
    LongAdder lost = new LongAdder();
    LongAdder mismatched = new LongAdder();
    LongAdder unverified = new LongAdder();
    Transport t = run.transport();
    LoadDriver.Workload reads = seq -> {
      long id = ids.get((int) seq);
      float[] expected = d.base()[(int) ((id - idBase) % d.size())];
      Future<Reply> reply = getWithRetry(run, t, id, System.nanoTime() + VERIFY_RETRY_FOR.toNanos()).onSuccess(r -> {
        if (r.ok()) {
          if (sameValues(expected, r.body() == null ? null : r.body().getJsonArray("values"))) {
            verified.increment();
          } else {
            mismatched.increment();
          }
        } else if (r.status() == 404) {
          lost.increment();
        } else {
          unverified.increment();
        }
      });
      return new LoadDriver.Request(Workloads.GET, reply);
    };
    if (!ids.isEmpty()) {
      run.phase("verify", new LoadDriver.ClosedLoop(verifyConcurrency), new LoadDriver.Limits(0, ids.size()), reads,
          load.maxInFlight);
    }
    run.check("acked_points", ids.size(), !ids.isEmpty());
    run.note("verified", verified.sum());
    run.check("lost", lost.sum(), lost.sum() == 0);
    run.check("mismatched", mismatched.sum(), mismatched.sum() == 0);
    run.check("unverified", unverified.sum(), unverified.sum() == 0);
  }

  /**
   * A read answered neither with the point nor with 404 (503 {@code shard_unavailable}: a restarted
   * shard whose gateway breaker is still open, 5 s by default, or still catching up) is asked again
   * every 250 ms until {@code deadlineNanos}; only then does it count as unverified. Verification
   * checks that no acknowledged write is lost, not how fast a restarted shard is reachable again.
   */
  private Future<Reply> getWithRetry(BenchRun run, Transport t, long id, long deadlineNanos) {
    return t.getPoint(collection.name, id).compose(r -> r.ok() || r.status() == 404 || System.nanoTime() >= deadlineNanos
        ? Future.succeededFuture(r)
        : run.delay(Duration.ofMillis(250)).compose(v -> getWithRetry(run, t, id, deadlineNanos)));
  }

  static boolean sameValues(float[] expected, JsonArray actual) {
    if (actual == null || actual.size() != expected.length) {
      return false;
    }
    for (int i = 0; i < expected.length; i++) {
      float a = ((Number) actual.getValue(i)).floatValue();
      if (Math.abs(a - expected[i]) > 1e-6f * Math.max(1f, Math.abs(expected[i]))) {
        return false;
      }
    }
    return true;
  }
}
