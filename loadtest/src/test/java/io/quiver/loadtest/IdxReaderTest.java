package io.quiver.loadtest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxReaderTest {

  @TempDir
  Path tmp;

  /** Writes an unsigned-byte IDX file: 0, 0, 0x08, ndims, sizes (big-endian int32), data. */
  static Path writeIdx(Path file, boolean gzip, int[] dims, byte[] data) throws IOException {
    try (OutputStream raw = Files.newOutputStream(file);
        OutputStream maybeZipped = gzip ? new GZIPOutputStream(raw) : raw;
        DataOutputStream out = new DataOutputStream(maybeZipped)) {
      out.writeInt(0x00000800 | dims.length);
      for (int d : dims) {
        out.writeInt(d);
      }
      out.write(data);
    }
    return file;
  }

  @Test
  void readsGzippedImagesAsPixelOver255() throws IOException {
    // three 2x2 images
    byte[] pixels = {0, (byte) 255, 51, 102, 1, 2, 3, 4, (byte) 128, 0, 0, 0};
    Path f = writeIdx(tmp.resolve("imgs-idx3-ubyte.gz"), true, new int[] {3, 2, 2}, pixels);

    float[][] images = IdxReader.readImages(f, 0);
    assertThat(images).hasDimensions(3, 4);
    assertThat(images[0]).containsExactly(0f, 1f, 0.2f, 0.4f);
    assertThat(images[2][0]).isEqualTo(128 / 255f);
  }

  @Test
  void readsUncompressedFilesAndHonoursTheLimit() throws IOException {
    Path f = writeIdx(tmp.resolve("imgs"), false, new int[] {3, 1, 2}, new byte[] {1, 2, 3, 4, 5, 6});
    float[][] images = IdxReader.readImages(f, 2);
    assertThat(images).hasDimensions(2, 2);
    assertThat(images[1]).containsExactly(3 / 255f, 4 / 255f);
  }

  @Test
  void readsLabels() throws IOException {
    Path f = writeIdx(tmp.resolve("labels.gz"), true, new int[] {4}, new byte[] {9, 0, 3, (byte) 200});
    assertThat(IdxReader.readLabels(f, 0)).containsExactly(9, 0, 3, 200);
  }

  @Test
  void rejectsOtherFilesWithTheFileNameInTheMessage() throws IOException {
    Path notIdx = Files.write(tmp.resolve("bogus.bin"), new byte[] {1, 2, 3, 4, 5});
    assertThatThrownBy(() -> IdxReader.readImages(notIdx, 0)).hasMessageContaining("bogus.bin").hasMessageContaining("not an IDX");
    Path truncated = writeIdx(tmp.resolve("short.gz"), true, new int[] {2, 2}, new byte[] {1, 2, 3});
    assertThatThrownBy(() -> IdxReader.readImages(truncated, 0)).hasMessageContaining("truncated at item 1");
  }
}
