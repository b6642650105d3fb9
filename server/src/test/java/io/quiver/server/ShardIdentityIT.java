package io.quiver.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shard identity with real processes: a second live shard with an id already taken refuses to start
 * with a clear message; a shard that was down while a collection was deleted deletes its copy when
 * it returns instead of bringing the collection back.
 */
class ShardIdentityIT {
  @TempDir Path dir;
  private final List<QuiverProcess> processes = new ArrayList<>();
  private final String cluster = "identity-" + UUID.randomUUID();
  private final List<Integer> clusterPorts = new ArrayList<>();

  @AfterEach
  void cleanUp() {
    processes.forEach(QuiverProcess::close);
  }

  @Test
  void aSecondLiveShardWithTheSameIdRefusesToStart() throws Exception {
    processes.add(startShard(0, dir.resolve("a"), TestHttp.freePort()));
    List<String> args = shardArgs(0, dir.resolve("b"), TestHttp.freePort());
    args.add(0, QuiverProcess.LAUNCHER.toString());
    ProcessBuilder pb = new ProcessBuilder(args).redirectErrorStream(true);
    pb.environment().put("QUIVER_HEAP", "448m");
    Process second = pb.start();
    second.getOutputStream().close();
    String out = new String(second.getInputStream().readAllBytes());
    assertThat(second.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(second.exitValue()).as(out).isNotZero();
    assertThat(out).contains("quiver: shard id 0 is already registered by a live process");
  }

  @Test
  void aShardDownWhileItsCollectionWasDeletedDropsItsCopyWhenItReturns() throws Exception {
    int shard1Http = TestHttp.freePort();
    processes.add(startShard(0, dir.resolve("s0"), TestHttp.freePort()));
    QuiverProcess shard1 = startShard(1, dir.resolve("s1"), shard1Http);
    processes.add(shard1);
    int port = TestHttp.freePort();
    processes.add(QuiverProcess.start(List.of("gateway", "--http-port", Integer.toString(port),
            "--grpc-port", Integer.toString(TestHttp.freePort()), "--cluster-name", cluster,
            "--cluster-port", Integer.toString(TestHttp.freePort()), "--cluster-members", members()),
        Map.of("QUIVER_HEAP", "384m"), dir.resolve("gateway.log"), "Quiver gateway ready", 180));
    TestHttp http = new TestHttp(port);
    assertThat(http.post("/collections", new JsonObject().put("name", "gone").put("dimension", 2).put("partitions", 4))
        .status()).isEqualTo(200);
    assertThat(new TestHttp(shard1Http).get("/ready").obj().getJsonObject("checks").getInteger("partitions")).isEqualTo(2);

    shard1.stop(60);
    assertThat(http.delete("/collections/gone").status()).isEqualTo(200);

    shard1 = startShard(1, dir.resolve("s1"), shard1Http);
    processes.add(shard1);
    assertThat(new TestHttp(shard1Http).get("/ready").obj().getJsonObject("checks").getInteger("partitions")).isZero();
    assertThat(http.get("/collections/gone").status()).isEqualTo(404);
    assertThat(Files.readString(dir.resolve("shard-1.log"))).contains("it was dropped or replaced while this shard was away");
  }

  private QuiverProcess startShard(int id, Path data, int httpPort) throws Exception {
    return QuiverProcess.start(shardArgs(id, data, httpPort), Map.of("QUIVER_HEAP", "448m"),
        dir.resolve("shard-" + id + ".log"), "Quiver shard " + id + " ready", 180);
  }

  private List<String> shardArgs(int id, Path data, int httpPort) {
    int clusterPort = TestHttp.freePort();
    clusterPorts.add(clusterPort);
    return new ArrayList<>(List.of("shard", "--shard-id", Integer.toString(id), "--host", "127.0.0.1",
        "--shard-port", Integer.toString(TestHttp.freePort()), "--shard-http-port", Integer.toString(httpPort),
        "--cluster-name", cluster, "--cluster-port", Integer.toString(clusterPort), "--cluster-members", members(),
        "--memory-budget-mb", "64", "--data", data.toString()));
  }

  private String members() {
    return String.join(",", clusterPorts.stream().map(p -> "127.0.0.1:" + p).toList());
  }
}
