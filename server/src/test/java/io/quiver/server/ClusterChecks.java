package io.quiver.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * What the multi-process cluster tests check through a gateway: partitions per shard in
 * {@code /admin/cluster}, waiting for a cluster state, and that every acknowledged write is listed.
 * Stateless.
 */
final class ClusterChecks {
  private ClusterChecks() {}

  /** The partitions {@code shard} owns according to an {@code /admin/cluster} answer (-1: not listed). */
  static int owned(JsonObject status, int shard) {
    for (Object o : status.getJsonArray("shards")) {
      JsonObject s = (JsonObject) o;
      if (s.getInteger("id") == shard) {
        return s.getInteger("partitions");
      }
    }
    return -1;
  }

  /** Polls {@code /admin/cluster} until {@code condition} holds; fails naming {@code what} after 180 s. */
  static JsonObject awaitStatus(TestHttp http, String what, Predicate<JsonObject> condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
    JsonObject last = null;
    while (System.nanoTime() < deadline) {
      TestHttp.Response r = http.get("/admin/cluster");
      if (r.status() == 200) {
        last = r.obj();
        if (condition.test(last)) {
          return last;
        }
      }
      Thread.onSpinWait();
    }
    throw new AssertionError(what + " did not happen; last /admin/cluster: " + last);
  }

  /**
   * Every id acknowledged before this call is listed in {@code collection}. A listing answered 503
   * is retried for up to {@code unavailableFor} (a breaker opened by an outage closes on its next
   * probe); with {@link Duration#ZERO} any 503 fails.
   */
  static void assertAllListed(TestHttp http, String collection, Set<Long> acknowledgedSoFar, Duration unavailableFor) {
    Set<Long> acknowledged = Set.copyOf(acknowledgedSoFar);
    Set<Long> present = new HashSet<>();
    String after = "";
    long deadline = System.nanoTime() + unavailableFor.toNanos();
    while (true) {
      TestHttp.Response page = http.get("/collections/" + collection + "/points?limit=10000" + after);
      if (page.status() == 503 && System.nanoTime() < deadline) {
        continue;
      }
      assertThat(page.status()).as(page.body()).isEqualTo(200);
      page.obj().getJsonArray("points").forEach(p -> present.add(((JsonObject) p).getLong("id")));
      Object next = page.obj().getValue("next_after_id");
      if (next == null) {
        break;
      }
      after = "&after_id=" + next;
    }
    List<Long> missing = acknowledged.stream().filter(id -> !present.contains(id)).sorted().toList();
    List<String> detail = missing.stream().limit(5)
        .map(id -> id + ": GET " + http.get("/collections/" + collection + "/points/" + id).status()).toList();
    assertThat(missing).as("acknowledged writes lost (" + missing.size() + "), e.g. " + detail).isEmpty();
  }

  /** The vector written for {@code id}: seeded, so any test can check it again. */
  static JsonArray vector(long id, int dimension) {
    Random r = new Random(id);
    JsonArray v = new JsonArray();
    for (int i = 0; i < dimension; i++) {
      v.add((double) r.nextFloat());
    }
    return v;
  }
}
