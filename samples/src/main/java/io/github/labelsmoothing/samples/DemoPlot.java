package io.github.labelsmoothing.samples;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.Marker;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The reliability diagram of {@link CalibrationDemo}: every run overlaid on the diagonal, with the number of test
 * examples behind each point in a panel underneath, drawn headless by XChart.
 */
final class DemoPlot {

    private static final int WIDTH = 900;
    private static final int DIAGRAM_HEIGHT = 700;
    private static final int COUNTS_HEIGHT = 260;

    /** Tableau 10 colours, one per run: distinct and readable on white. */
    private static final Color[] RUN_COLORS = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c),
        new Color(0xd62728), new Color(0x9467bd), new Color(0x8c564b), new Color(0xe377c2), new Color(0xbcbd22),
        new Color(0x17becf)};
    private static final Marker[] RUN_MARKERS = {SeriesMarkers.DIAMOND, SeriesMarkers.SQUARE, SeriesMarkers.CIRCLE,
        SeriesMarkers.TRIANGLE_UP, SeriesMarkers.TRIANGLE_DOWN};

    private DemoPlot() {
    }

    /**
     * Writes a PNG of two panels sharing the confidence axis. Above: one line per run through its non-empty bins (mean
     * confidence, accuracy) and the diagonal a perfectly calibrated model would follow; points below it are
     * over-confident, points above under-confident. Below: how many test examples each of those points stands on (log
     * scale), so that a point resting on a handful of examples can be told from one resting on hundreds.
     */
    static void reliabilityDiagram(List<DemoEvaluation.Result> results, int bins, String dataName, Path png)
            throws IOException {
        XYChart diagram = chart(DIAGRAM_HEIGHT,
                "Reliability diagram, " + dataName + " test set (top-label, " + bins + " bins)",
                "confidence (mean top-1 probability in bin)", "accuracy in bin");
        diagram.getStyler()
                .setYAxisMin(0.0).setYAxisMax(1.0)
                .setLegendPosition(Styler.LegendPosition.InsideNW);
        XYSeries diagonal = diagram.addSeries("perfect calibration", new double[] {0, 1}, new double[] {0, 1});
        diagonal.setMarker(SeriesMarkers.NONE);
        diagonal.setLineColor(Color.GRAY);
        diagonal.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                new float[] {6f, 6f}, 0f));

        XYChart counts = chart(COUNTS_HEIGHT, "Test examples in each bin (log scale)",
                "confidence (mean top-1 probability in bin)", "examples");
        counts.getStyler()
                .setYAxisLogarithmic(true)
                .setLegendVisible(false);

        for (int run = 0; run < results.size(); run++) {
            DemoEvaluation.Result result = results.get(run);
            double[] confidence = result.reliability().getMeanPredictedValueX();
            style(diagram.addSeries(String.format(Locale.ROOT, "%s: ECE %.3f, accuracy %.3f",
                            result.name(), result.ece(), result.accuracy()),
                    confidence, result.reliability().getFractionPositivesY()), run);
            style(counts.addSeries(result.name(), confidence,
                    Arrays.stream(result.binCounts()).asDoubleStream().toArray()), run);
        }

        BufferedImage image = new BufferedImage(WIDTH, DIAGRAM_HEIGHT + COUNTS_HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D graphics = image.createGraphics();
        try {
            graphics.drawImage(BitmapEncoder.getBufferedImage(diagram), 0, 0, null);
            graphics.drawImage(BitmapEncoder.getBufferedImage(counts), 0, DIAGRAM_HEIGHT, null);
        } finally {
            graphics.dispose();
        }
        ImageIO.write(image, "png", png.toFile());
    }

    /** An empty chart of the common width with the confidence axis over [0, 1] on a white background. */
    private static XYChart chart(int height, String title, String xAxisTitle, String yAxisTitle) {
        XYChart chart = new XYChartBuilder().width(WIDTH).height(height)
                .title(title).xAxisTitle(xAxisTitle).yAxisTitle(yAxisTitle).build();
        chart.getStyler()
                .setXAxisMin(0.0).setXAxisMax(1.0)
                .setChartBackgroundColor(Color.WHITE)
                .setMarkerSize(7);
        return chart;
    }

    /** The colour and marker of a run, the same in both panels. */
    private static void style(XYSeries series, int run) {
        Color color = RUN_COLORS[run % RUN_COLORS.length];
        series.setLineColor(color);
        series.setMarkerColor(color);
        series.setMarker(RUN_MARKERS[run % RUN_MARKERS.length]);
    }
}
