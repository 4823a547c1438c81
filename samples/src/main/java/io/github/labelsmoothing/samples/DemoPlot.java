package io.github.labelsmoothing.samples;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.Styler;
import org.knowm.xchart.style.markers.SeriesMarkers;

/** The reliability diagram of {@link CalibrationDemo}: every run overlaid on the diagonal, drawn headless by XChart. */
final class DemoPlot {

    private DemoPlot() {
    }

    /**
     * Writes a PNG with one line per run through its non-empty bins (mean confidence, accuracy) and the diagonal a
     * perfectly calibrated model would follow: points below it are over-confident, points above under-confident.
     */
    static void reliabilityDiagram(List<DemoEvaluation.Result> results, int bins, String dataName, Path png)
            throws IOException {
        XYChart chart = new XYChartBuilder().width(900).height(700)
                .title("Reliability diagram, " + dataName + " test set (top-label, " + bins + " bins)")
                .xAxisTitle("confidence (mean top-1 probability in bin)")
                .yAxisTitle("accuracy in bin")
                .build();
        chart.getStyler()
                .setXAxisMin(0.0).setXAxisMax(1.0).setYAxisMin(0.0).setYAxisMax(1.0)
                .setLegendPosition(Styler.LegendPosition.InsideNW)
                .setChartBackgroundColor(Color.WHITE)
                .setMarkerSize(7)
                // Gray for the diagonal (the first series), then Tableau 10 colours: distinct and readable on white.
                .setSeriesColors(new Color[] {Color.GRAY, new Color(0x1f77b4), new Color(0xff7f0e),
                    new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd), new Color(0x8c564b),
                    new Color(0xe377c2), new Color(0xbcbd22), new Color(0x17becf)});

        XYSeries diagonal = chart.addSeries("perfect calibration", new double[] {0, 1}, new double[] {0, 1});
        diagonal.setMarker(SeriesMarkers.NONE);
        diagonal.setLineStyle(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f,
                new float[] {6f, 6f}, 0f));
        for (DemoEvaluation.Result result : results) {
            chart.addSeries(String.format(Locale.ROOT, "s = %s: ECE %.3f, accuracy %.3f",
                            CalibrationDemo.format(result.smoothing()), result.ece(), result.accuracy()),
                    result.reliability().getMeanPredictedValueX(), result.reliability().getFractionPositivesY());
        }
        try (OutputStream out = Files.newOutputStream(png)) {
            BitmapEncoder.saveBitmap(chart, out, BitmapEncoder.BitmapFormat.PNG);
        }
    }
}
