package io.quiver.server;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.ParentCommand;

/** {@code ctl checkpoint}: every shard checkpoints now ({@code POST /admin/checkpoint}); exits 1 if one failed. */
@Command(name = "checkpoint", mixinStandardHelpOptions = true, description = "Checkpoint every shard now.")
final class CheckpointCommand implements Callable<Integer> {
  @ParentCommand CtlCommand ctl;

  @Override
  public Integer call() {
    return CtlException.run(() -> {
      System.out.println("checkpointing every shard...");
      long started = System.nanoTime();
      JsonObject r = ctl.client().post("/admin/checkpoint", new JsonObject());
      for (Object o : r.getJsonArray("shards", new JsonArray())) {
        JsonObject s = (JsonObject) o;
        System.out.printf("shard %d: checkpoint covers WAL sequence %d%n", s.getInteger("shard_id"),
            s.getLong("covered_sequence"));
      }
      JsonArray failed = r.getJsonArray("failed", new JsonArray());
      if (!failed.isEmpty()) {
        JsonObject f = failed.getJsonObject(0);
        throw new CtlException(CtlCommand.FAILED, failed.size() + " shard(s) did not checkpoint; shard "
            + f.getInteger("shard_id") + ": " + f.getString("code") + ": " + f.getString("message"));
      }
      System.out.printf("checkpointed %d shards in %d ms%n", r.getJsonArray("shards").size(),
          (System.nanoTime() - started) / 1_000_000);
      return CtlCommand.OK;
    });
  }
}
