package io.quiver.server;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code ctl drain SHARD}: asks the coordinator to move every partition off a shard
 * ({@code POST /admin/drain}) and waits, with a progress line, until it owns none, so the shard can
 * be stopped for good (a scale-in). {@code --cancel} stops draining.
 */
@Command(name = "drain", mixinStandardHelpOptions = true,
    description = "Move every partition off a shard before scale-in, and wait until it owns none.")
final class DrainCommand implements Callable<Integer> {
  @ParentCommand CtlCommand ctl;

  @Parameters(index = "0", description = "The shard id to drain.")
  int shard;

  @Option(names = "--timeout-s", defaultValue = "3600", description = "Give up waiting after this many seconds.")
  long timeoutSeconds;

  @Option(names = "--no-wait", description = "Start draining and return at once.")
  boolean noWait;

  @Option(names = "--cancel", description = "Stop draining the shard (partitions already moved stay where they are).")
  boolean cancel;

  @Override
  public Integer call() {
    return CtlException.run(() -> {
      JsonObject r = ctl.client().post("/admin/drain", new JsonObject().put("shard", shard).put("enabled", !cancel));
      if (cancel) {
        System.out.printf("shard %d is no longer draining%n", shard);
        return CtlCommand.OK;
      }
      System.out.printf("draining shard %d: %d partitions to move%n", shard, r.getInteger("partitions"));
      if (noWait) {
        return CtlCommand.OK;
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
      int left = r.getInteger("partitions");
      while (left > 0) {
        if (System.nanoTime() > deadline) {
          throw new CtlException(CtlCommand.FAILED, "shard " + shard + " still owns " + left + " partitions after "
              + timeoutSeconds + " s; it keeps draining in the background");
        }
        TimeUnit.MILLISECONDS.sleep(500); // a poll interval for a human-facing progress line, not a wait for a condition
        JsonObject status = ctl.client().get("/admin/cluster");
        left = owned(status, shard);
        System.out.printf("shard %d: %d partitions left, %d moves in progress%n", shard, left,
            status.getJsonArray("moves", new JsonArray()).size());
      }
      System.out.printf("shard %d owns no partitions: it can be stopped%n", shard);
      return CtlCommand.OK;
    });
  }

  private static int owned(JsonObject status, int shard) {
    for (Object o : status.getJsonArray("shards", new JsonArray())) {
      JsonObject s = (JsonObject) o;
      if (s.getInteger("id") == shard) {
        return s.getInteger("partitions");
      }
    }
    return 0;
  }
}
