package io.quiver.gateway;

import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.quiver.common.QuiverException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Map;

/**
 * Converts gRPC payloads ({@code google.protobuf.Struct}) to and from the JSON bytes the shards
 * store, so a payload written over gRPC reads back over REST unchanged and the other way round.
 * Struct numbers are doubles; whole numbers within ±2^53 are written as JSON integers, as REST
 * clients send them. Stateless.
 */
final class Structs {
  private static final double MAX_EXACT = 9_007_199_254_740_992d;

  private Structs() {}

  /** The payload's JSON bytes, checked like a REST payload; {@code invalid_argument} when not allowed. */
  static byte[] toJsonBytes(Struct s, String field) {
    return Validation.payload(toJson(s), field);
  }

  static Struct fromJsonBytes(byte[] json) {
    if (json == null || json.length == 0) {
      return Struct.getDefaultInstance();
    }
    return fromJson(new JsonObject(Buffer.buffer(json)));
  }

  static JsonObject toJson(Struct s) {
    JsonObject out = new JsonObject();
    for (Map.Entry<String, Value> e : s.getFieldsMap().entrySet()) {
      out.put(e.getKey(), toJson(e.getValue()));
    }
    return out;
  }

  private static Object toJson(Value v) {
    return switch (v.getKindCase()) {
      case NULL_VALUE, KIND_NOT_SET -> null;
      case BOOL_VALUE -> v.getBoolValue();
      case STRING_VALUE -> v.getStringValue();
      case NUMBER_VALUE -> number(v.getNumberValue());
      case STRUCT_VALUE -> toJson(v.getStructValue());
      case LIST_VALUE -> {
        JsonArray a = new JsonArray();
        v.getListValue().getValuesList().forEach(x -> a.add(toJson(x)));
        yield a;
      }
    };
  }

  private static Object number(double d) {
    if (!Double.isFinite(d)) {
      throw QuiverException.invalid("payload numbers must be finite");
    }
    return d == Math.rint(d) && Math.abs(d) <= MAX_EXACT ? (Object) (long) d : (Object) d;
  }

  static Struct fromJson(JsonObject o) {
    Struct.Builder b = Struct.newBuilder();
    for (String key : o.fieldNames()) {
      b.putFields(key, value(o.getValue(key)));
    }
    return b.build();
  }

  private static Value value(Object x) {
    Value.Builder v = Value.newBuilder();
    if (x == null) {
      v.setNullValue(NullValue.NULL_VALUE);
    } else if (x instanceof Boolean bo) {
      v.setBoolValue(bo);
    } else if (x instanceof Number n) {
      v.setNumberValue(n.doubleValue());
    } else if (x instanceof JsonObject obj) {
      v.setStructValue(fromJson(obj));
    } else if (x instanceof JsonArray arr) {
      ListValue.Builder l = ListValue.newBuilder();
      arr.forEach(y -> l.addValues(value(y)));
      v.setListValue(l);
    } else {
      v.setStringValue(String.valueOf(x));
    }
    return v.build();
  }
}
