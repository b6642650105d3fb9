package io.quiver.gateway;

import io.quiver.common.QuiverException;
import io.quiver.proto.v1.FieldValue;
import io.quiver.proto.v1.Filter;
import io.quiver.proto.v1.FilterClause;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Set;

/**
 * Checks of request content that do not depend on the protocol: vector shape and values, payload
 * shape, filter structure and size. Every failure is {@code invalid_argument} naming the field.
 * Stateless.
 */
public final class Validation {
  private static final Set<String> CLAUSE_KEYS = Set.of("field", "value", "gt", "gte", "lt", "lte");
  private static final Set<String> FILTER_KEYS = Set.of("must", "should", "must_not", "minimum_should_match");

  private Validation() {}

  /** Dimension must match; values must be finite when {@code strictFinite} (always for queries). */
  public static void checkVector(float[] v, int dimension, boolean strictFinite, String field) {
    if (v == null) {
      throw QuiverException.invalid(field + " is required");
    }
    if (v.length != dimension) {
      throw QuiverException.invalid(field + " has dimension " + v.length + " but the collection has dimension " + dimension);
    }
    if (strictFinite) {
      for (int i = 0; i < v.length; i++) {
        if (!Float.isFinite(v[i])) {
          throw QuiverException.invalid(field + "[" + i + "] is not a finite number");
        }
      }
    }
  }

  /** A JSON array of numbers as f32 values; {@code invalid_argument} when it is anything else. */
  public static float[] floats(Object value, String field, int maxDimension) {
    if (!(value instanceof JsonArray arr)) {
      throw QuiverException.invalid(field + " must be an array of numbers");
    }
    if (arr.size() > maxDimension) {
      throw QuiverException.invalid(field + " has " + arr.size() + " values; at most " + maxDimension + " are allowed");
    }
    float[] out = new float[arr.size()];
    for (int i = 0; i < out.length; i++) {
      Object x = arr.getValue(i);
      if (!(x instanceof Number n)) {
        throw QuiverException.invalid(field + "[" + i + "] must be a number");
      }
      out[i] = n.floatValue();
    }
    return out;
  }

  /**
   * A payload: a JSON object whose values are strings, numbers, booleans or arrays of these.
   * Returns its UTF-8 JSON bytes.
   */
  public static byte[] payload(Object value, String field) {
    if (value == null) {
      return null;
    }
    if (!(value instanceof JsonObject obj)) {
      throw QuiverException.invalid(field + " must be a JSON object");
    }
    for (String key : obj.fieldNames()) {
      Object v = obj.getValue(key);
      if (v instanceof JsonArray arr) {
        for (Object x : arr) {
          if (!isScalar(x)) {
            throw QuiverException.invalid(field + "." + key + " must hold only strings, numbers or booleans");
          }
        }
      } else if (!isScalar(v)) {
        throw QuiverException.invalid(field + "." + key + " must be a string, number, boolean or an array of these");
      }
    }
    return obj.toBuffer().getBytes();
  }

  private static boolean isScalar(Object x) {
    return x instanceof String || x instanceof Number || x instanceof Boolean;
  }

  /** Parses a REST filter object into the shared proto form, checking structure and size. */
  public static Filter filter(Object value, int maxClauses) {
    if (value == null) {
      return null;
    }
    if (!(value instanceof JsonObject obj)) {
      throw QuiverException.invalid("filter must be a JSON object");
    }
    for (String key : obj.fieldNames()) {
      if (!FILTER_KEYS.contains(key)) {
        throw QuiverException.invalid("unknown field '" + key + "' in filter; expected must, should, must_not, minimum_should_match");
      }
    }
    Filter.Builder f = Filter.newBuilder();
    f.addAllMust(clauses(obj.getValue("must"), "filter.must"));
    f.addAllShould(clauses(obj.getValue("should"), "filter.should"));
    f.addAllMustNot(clauses(obj.getValue("must_not"), "filter.must_not"));
    Object msm = obj.getValue("minimum_should_match");
    if (msm != null) {
      if (!(msm instanceof Number n) || n.doubleValue() != Math.floor(n.doubleValue()) || n.longValue() < 0
          || n.longValue() > f.getShouldCount()) {
        throw QuiverException.invalid("filter.minimum_should_match must be an integer between 0 and the number of should clauses");
      }
      f.setMinimumShouldMatch(n.intValue());
    }
    int total = f.getMustCount() + f.getShouldCount() + f.getMustNotCount();
    if (total > maxClauses) {
      throw QuiverException.invalid("filter has " + total + " clauses; at most " + maxClauses + " are allowed");
    }
    return f.build();
  }

  /** Checks the size of a filter that arrived already structured (gRPC). */
  public static Filter checkFilter(Filter f, int maxClauses) {
    int total = f.getMustCount() + f.getShouldCount() + f.getMustNotCount();
    if (total > maxClauses) {
      throw QuiverException.invalid("filter has " + total + " clauses; at most " + maxClauses + " are allowed");
    }
    for (List<FilterClause> list : List.of(f.getMustList(), f.getShouldList(), f.getMustNotList())) {
      for (FilterClause c : list) {
        boolean range = c.hasGt() || c.hasGte() || c.hasLt() || c.hasLte();
        if (c.getField().isEmpty() || c.hasValue() == range) {
          throw QuiverException.invalid("each filter clause needs a field and either a value or a range (gt, gte, lt, lte)");
        }
      }
    }
    if (f.hasMinimumShouldMatch() && f.getMinimumShouldMatch() > f.getShouldCount()) {
      throw QuiverException.invalid("filter.minimum_should_match must be between 0 and the number of should clauses");
    }
    return f;
  }

  private static List<FilterClause> clauses(Object value, String field) {
    if (value == null) {
      return List.of();
    }
    if (!(value instanceof JsonArray arr)) {
      throw QuiverException.invalid(field + " must be an array of clauses");
    }
    java.util.ArrayList<FilterClause> out = new java.util.ArrayList<>(arr.size());
    for (int i = 0; i < arr.size(); i++) {
      String at = field + "[" + i + "]";
      if (!(arr.getValue(i) instanceof JsonObject c)) {
        throw QuiverException.invalid(at + " must be an object");
      }
      for (String key : c.fieldNames()) {
        if (!CLAUSE_KEYS.contains(key)) {
          throw QuiverException.invalid("unknown field '" + key + "' in filter clause " + at);
        }
      }
      if (!(c.getValue("field") instanceof String name) || name.isEmpty()) {
        throw QuiverException.invalid(at + ".field must be a non-empty string");
      }
      FilterClause.Builder b = FilterClause.newBuilder().setField(name);
      boolean hasValue = c.containsKey("value");
      boolean hasRange = false;
      for (String op : List.of("gt", "gte", "lt", "lte")) {
        if (c.containsKey(op)) {
          if (!(c.getValue(op) instanceof Number n) || !Double.isFinite(n.doubleValue())) {
            throw QuiverException.invalid(at + "." + op + " must be a finite number");
          }
          hasRange = true;
          double d = n.doubleValue();
          switch (op) {
            case "gt" -> b.setGt(d);
            case "gte" -> b.setGte(d);
            case "lt" -> b.setLt(d);
            default -> b.setLte(d);
          }
        }
      }
      if (hasValue == hasRange) {
        throw QuiverException.invalid(at + " needs either value or a range (gt, gte, lt, lte)");
      }
      if (hasValue) {
        Object v = c.getValue("value");
        FieldValue.Builder fv = FieldValue.newBuilder();
        if (v instanceof String s) {
          fv.setStringValue(s);
        } else if (v instanceof Boolean bo) {
          fv.setBoolValue(bo);
        } else if (v instanceof Number n) {
          fv.setNumberValue(n.doubleValue());
        } else {
          throw QuiverException.invalid(at + ".value must be a string, number or boolean");
        }
        b.setValue(fv);
      }
      out.add(b.build());
    }
    return out;
  }
}
