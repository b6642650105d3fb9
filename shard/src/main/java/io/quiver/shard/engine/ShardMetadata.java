package io.quiver.shard.engine;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quiver.cluster.ReadOnlyState;
import io.quiver.shard.index.Metric;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The document in the shard metadata file: the collections this shard knows, and for each the
 * partitions it owns with their ownership epochs, the uids of dropped collections, and the operator
 * read-only mode this shard last adopted. Encoded as JSON:
 * {@code {"version":1,"collections":[{"tenant","name","uid","dimension","metric","strict_finite",
 * "partitions","owned":{"<partition>":<epoch>}}],"dropped":[uid],
 * "read_only":{"enabled","reason","since","set_by","version"}}}. A document without {@code read_only}
 * (written before the mode existed) reads as {@link ReadOnlyState#OFF}. Immutable.
 */
record ShardMetadata(List<CollectionEntry> collections, List<Long> dropped, ReadOnlyState readOnly) {
  /** How many dropped uids are remembered (newest kept). */
  static final int MAX_DROPPED = 10_000;
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * One collection: the epochs of the partitions owned here, those of them sealed because they are
   * moving away, and those arriving (copied here, not yet owned) with the epoch they will have.
   */
  record CollectionEntry(CollectionSpec spec, Map<Integer, Long> owned, java.util.Set<Integer> sealed,
      Map<Integer, Long> incoming) {}

  static final ShardMetadata EMPTY = new ShardMetadata(List.of(), List.of(), ReadOnlyState.OFF);

  byte[] encode() {
    ObjectNode root = JSON.createObjectNode().put("version", 1);
    ArrayNode arr = root.putArray("collections");
    for (CollectionEntry e : collections) {
      CollectionSpec s = e.spec();
      ObjectNode c = arr.addObject()
          .put("tenant", s.tenant()).put("name", s.name()).put("uid", s.uid()).put("dimension", s.dimension())
          .put("metric", s.metric().wireName()).put("strict_finite", s.strictFinite()).put("partitions", s.partitions());
      ObjectNode owned = c.putObject("owned");
      new TreeMap<>(e.owned()).forEach((p, epoch) -> owned.put(Integer.toString(p), epoch));
      ArrayNode sealed = c.putArray("sealed");
      new java.util.TreeSet<>(e.sealed()).forEach(sealed::add);
      ObjectNode incoming = c.putObject("incoming");
      new TreeMap<>(e.incoming()).forEach((p, epoch) -> incoming.put(Integer.toString(p), epoch));
    }
    ArrayNode d = root.putArray("dropped");
    dropped.forEach(d::add);
    root.putObject("read_only").put("enabled", readOnly.enabled()).put("reason", readOnly.reason())
        .put("since", readOnly.since()).put("set_by", readOnly.setBy()).put("version", readOnly.version());
    try {
      return JSON.writeValueAsBytes(root);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  static ShardMetadata decode(byte[] doc) throws IOException {
    JsonNode root = JSON.readTree(doc);
    List<CollectionEntry> out = new ArrayList<>();
    for (JsonNode c : root.path("collections")) {
      CollectionSpec spec = new CollectionSpec(c.get("tenant").asText(), c.get("name").asText(), c.get("uid").asLong(),
          c.get("dimension").asInt(), Metric.parse(c.get("metric").asText()), c.get("strict_finite").asBoolean(),
          c.get("partitions").asInt());
      Map<Integer, Long> owned = new TreeMap<>();
      c.path("owned").fields().forEachRemaining(f -> owned.put(Integer.parseInt(f.getKey()), f.getValue().asLong()));
      java.util.Set<Integer> sealed = new java.util.TreeSet<>();
      c.path("sealed").forEach(n -> sealed.add(n.asInt()));
      Map<Integer, Long> incoming = new TreeMap<>();
      c.path("incoming").fields().forEachRemaining(f -> incoming.put(Integer.parseInt(f.getKey()), f.getValue().asLong()));
      out.add(new CollectionEntry(spec, owned, sealed, incoming));
    }
    List<Long> dropped = new ArrayList<>();
    root.path("dropped").forEach(n -> dropped.add(n.asLong()));
    JsonNode ro = root.path("read_only");
    ReadOnlyState readOnly = ro.isObject()
        ? new ReadOnlyState(ro.path("enabled").asBoolean(false), ro.path("reason").asText(""), ro.path("since").asText(""),
            ro.path("set_by").asText(""), ro.path("version").asLong(0))
        : ReadOnlyState.OFF;
    return new ShardMetadata(List.copyOf(out), List.copyOf(dropped), readOnly);
  }
}
