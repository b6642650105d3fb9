package io.quiver.loadtest;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;
import picocli.CommandLine.Command;

class BenchCommandTest {

  @Command(name = "quiver")
  static final class Launcher implements Runnable {
    @Override
    public void run() {}
  }

  @Test
  void embedsAsASubcommandOfAnotherMain() {
    StringWriter out = new StringWriter();
    CommandLine launcher = new CommandLine(new Launcher()).addSubcommand(new BenchCommand());
    launcher.setOut(new PrintWriter(out, true));

    assertThat(launcher.execute("bench", "--help")).isZero();
    assertThat(out.toString()).contains("Usage: quiver bench", "readonly-toggle", "chaos", "compare");
  }

  @Test
  void withoutAScenarioItIsAUsageError() {
    CommandLine cli = new CommandLine(new BenchCommand());
    StringWriter err = new StringWriter();
    cli.setErr(new PrintWriter(err, true));
    assertThat(cli.execute()).isEqualTo(2);
    assertThat(err.toString()).contains("choose a scenario");
  }
}
