package io.github.labelsmoothing;

import java.util.List;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.dataset.MultiDataSet;
import org.nd4j.linalg.dataset.api.DataSetPreProcessor;
import org.nd4j.linalg.dataset.api.MultiDataSetPreProcessor;
import org.nd4j.linalg.dataset.api.iterator.DataSetIterator;
import org.nd4j.linalg.dataset.api.iterator.MultiDataSetIterator;

/**
 * Iterators that hand out the same cached objects every epoch and run their preprocessor on each, without DL4J's
 * isPreProcessed() flag (ExistingDataSetIterator sets that flag; ListDataSetIterator merges new objects). With
 * {@code async}, DL4J's fit() wraps them in its async prefetch iterators.
 */
final class CachedIterators {
    private CachedIterators() {
    }

    private abstract static class Cached<T> {
        final List<T> cached;
        private final boolean async;
        private int cursor;
        /** How many items were handed out (and preprocessed). */
        int served;

        Cached(List<T> cached, boolean async) {
            this.cached = cached;
            this.async = async;
        }

        abstract void preProcess(T item);

        public T next() {
            T item = cached.get(cursor++);
            preProcess(item);
            served++;
            return item;
        }

        public boolean hasNext() {
            return cursor < cached.size();
        }

        public void reset() {
            cursor = 0;
        }

        public boolean resetSupported() {
            return true;
        }

        public boolean asyncSupported() {
            return async;
        }
    }

    static final class OfDataSets extends Cached<DataSet> implements DataSetIterator {
        private static final long serialVersionUID = 1L;
        private DataSetPreProcessor preProcessor;

        OfDataSets(List<DataSet> cached, boolean async) {
            super(cached, async);
        }

        @Override
        void preProcess(DataSet item) {
            preProcessor.preProcess(item);
        }

        @Override
        public DataSet next(int num) {
            return next();
        }

        @Override
        public int inputColumns() {
            return (int) cached.get(0).getFeatures().size(1);
        }

        @Override
        public int totalOutcomes() {
            return (int) cached.get(0).getLabels().size(1);
        }

        @Override
        public int batch() {
            return cached.get(0).numExamples();
        }

        @Override
        public void setPreProcessor(DataSetPreProcessor preProcessor) {
            this.preProcessor = preProcessor;
        }

        @Override
        public DataSetPreProcessor getPreProcessor() {
            return preProcessor;
        }

        @Override
        public List<String> getLabels() {
            return null;
        }
    }

    static final class OfMultiDataSets extends Cached<MultiDataSet> implements MultiDataSetIterator {
        private static final long serialVersionUID = 1L;
        private MultiDataSetPreProcessor preProcessor;

        OfMultiDataSets(List<MultiDataSet> cached, boolean async) {
            super(cached, async);
        }

        @Override
        void preProcess(MultiDataSet item) {
            preProcessor.preProcess(item);
        }

        @Override
        public MultiDataSet next(int num) {
            return next();
        }

        @Override
        public void setPreProcessor(MultiDataSetPreProcessor preProcessor) {
            this.preProcessor = preProcessor;
        }

        @Override
        public MultiDataSetPreProcessor getPreProcessor() {
            return preProcessor;
        }
    }
}
