package io.quiver.shard;

import io.quiver.common.QuiverException;
import io.quiver.proto.internal.PartitionEpoch;
import io.quiver.proto.v1.FieldValue;
import io.quiver.proto.v1.FilterClause;
import io.quiver.shard.index.payload.Filter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Converts internal-API messages into engine values: filters and partition epochs. Stateless.
 */
final class ProtoConversions {
  private ProtoConversions() {}

  /** The engine filter for a proto filter; null when it has no clause. */
  static Filter filter(io.quiver.proto.v1.Filter f) {
    if (f == null || f.getMustCount() + f.getShouldCount() + f.getMustNotCount() == 0) {
      return null;
    }
    try {
      return Filter.of(clauses(f.getMustList()), clauses(f.getShouldList()), clauses(f.getMustNotList()),
          f.hasMinimumShouldMatch() ? f.getMinimumShouldMatch() : null);
    } catch (IllegalArgumentException e) {
      throw QuiverException.invalid("filter: " + e.getMessage());
    }
  }

  private static List<io.quiver.shard.index.payload.FilterClause> clauses(List<FilterClause> in) {
    return in.stream().map(ProtoConversions::clause).toList();
  }

  private static io.quiver.shard.index.payload.FilterClause clause(FilterClause c) {
    if (c.hasValue()) {
      FieldValue v = c.getValue();
      Object value = switch (v.getKindCase()) {
        case STRING_VALUE -> v.getStringValue();
        case NUMBER_VALUE -> v.getNumberValue();
        case BOOL_VALUE -> v.getBoolValue();
        case KIND_NOT_SET -> throw QuiverException.invalid("filter clause on '" + c.getField() + "' has an empty value");
      };
      return io.quiver.shard.index.payload.FilterClause.match(c.getField(), value);
    }
    return io.quiver.shard.index.payload.FilterClause.range(c.getField(),
        c.hasGt() ? c.getGt() : null, c.hasGte() ? c.getGte() : null,
        c.hasLt() ? c.getLt() : null, c.hasLte() ? c.getLte() : null);
  }

  static Map<Integer, Long> epochs(List<PartitionEpoch> list) {
    Map<Integer, Long> m = new HashMap<>();
    list.forEach(e -> m.put(e.getPartition(), e.getEpoch()));
    return m;
  }
}
