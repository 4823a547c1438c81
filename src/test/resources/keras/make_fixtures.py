#!/usr/bin/python3
"""Writes the Keras-2 .h5 fixtures of KerasLabelSmoothingTest and the losses Keras reports for them.

No TensorFlow: the files are written with h5py in the layout tf.keras 2.4's `model.save("x.h5")` writes (root
attributes keras_version, backend, model_config, training_config; a model_weights group with one group per layer,
attribute weight_names, datasets <layer>/<layer>/kernel:0 and bias:0). Strings are fixed-length byte strings, as
tf.keras 2.4 wrote them with h5py 2.10 (`json.dumps(...).encode("utf8")`) and as DL4J's Hdf5Archive reads them.

The expected losses are Keras' formulas (tf.keras 2.4, keras/losses.py and keras/backend.py) in numpy, float64 on the
float32 weights and inputs: label smoothing `y*(1-s) + s/K` (categorical) or `y*(1-s) + 0.5*s` (binary), epsilon 1e-7
clipping of probabilities, binary cross-entropy averaged over the last axis, and the default reduction
sum_over_batch_size (the batch mean); a model's loss is the sum of its outputs' losses.

Run from the repository root: /usr/bin/python3 src/test/resources/keras/make_fixtures.py
Writes src/test/resources/keras/*.h5 and expected.json (inputs, labels and Keras' loss per fixture).
"""
import json
import os

import h5py
import numpy as np

OUT = os.path.dirname(os.path.abspath(__file__))
EPS = 1e-7  # keras.backend.epsilon()
N, N_IN, N_HIDDEN = 5, 4, 6
rng = np.random.default_rng(20261128)

# ------------------------------------------------------------------------------------------------------------------
# Keras' loss formulas (numpy transcriptions of tf.keras 2.4)


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(z):
    m = z.max(axis=-1, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=-1, keepdims=True))


def categorical_crossentropy(y, out, from_logits, s):
    y = y * (1 - s) + s / y.shape[-1]
    if from_logits:
        return np.mean(-(y * log_softmax(out)).sum(axis=-1))
    p = np.clip(out / out.sum(axis=-1, keepdims=True), EPS, 1 - EPS)
    return np.mean(-(y * np.log(p)).sum(axis=-1))


def sparse_categorical_crossentropy(idx, out, from_logits, s=0.0):
    """tf.keras 2.x has no label_smoothing here; s > 0 is the smoothing a config that names it asks for."""
    return categorical_crossentropy(np.eye(out.shape[-1])[idx], out, from_logits, s)


def binary_crossentropy(y, out, from_logits, s):
    y = y * (1 - s) + 0.5 * s
    if from_logits:
        bce = np.maximum(out, 0) - out * y + np.log1p(np.exp(-np.abs(out)))
    else:
        p = np.clip(out, EPS, 1 - EPS)
        bce = -(y * np.log(p + EPS) + (1 - y) * np.log(1 - p + EPS))
    return np.mean(bce.mean(axis=-1))


ACTIVATIONS = {
    "tanh": np.tanh,
    "linear": lambda z: z,
    "softmax": softmax,
    "sigmoid": lambda z: 1 / (1 + np.exp(-z)),
}

# ------------------------------------------------------------------------------------------------------------------
# Keras-2 JSON (tf.keras 2.4 field set)


def dense_config(name, units, activation):
    return {"name": name, "trainable": True, "dtype": "float32", "units": units, "activation": activation,
            "use_bias": True,
            "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
            "bias_initializer": {"class_name": "Zeros", "config": {}},
            "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
            "kernel_constraint": None, "bias_constraint": None}


def input_config(name):
    return {"batch_input_shape": [None, N_IN], "dtype": "float32", "sparse": False, "ragged": False, "name": name}


def loss_object(class_name, name, reduction="auto", **config):
    return {"class_name": class_name, "config": {"reduction": reduction, "name": name, **config}}


def cce(s=0.0, from_logits=False, name="categorical_crossentropy"):
    return loss_object("CategoricalCrossentropy", name, from_logits=from_logits, label_smoothing=s)


def bce(s=0.0, from_logits=False, name="binary_crossentropy"):
    return loss_object("BinaryCrossentropy", name, from_logits=from_logits, label_smoothing=s)


def training_config(loss):
    return {"loss": loss, "metrics": None, "weighted_metrics": None, "loss_weights": None,
            "optimizer_config": {"class_name": "Adam", "config": {
                "name": "Adam", "learning_rate": 0.001, "decay": 0.0, "beta_1": 0.9, "beta_2": 0.999,
                "epsilon": 1e-07, "amsgrad": False}}}


class Dense:
    def __init__(self, name, units, activation, n_in):
        self.name, self.units, self.activation = name, units, activation
        self.kernel = rng.normal(0, 0.8, (n_in, units)).astype(np.float32)
        self.bias = rng.normal(0, 0.3, units).astype(np.float32)

    def __call__(self, x):
        return ACTIVATIONS[self.activation](x @ self.kernel.astype(np.float64) + self.bias)


def write_h5(path, model_config, dense_layers, input_name, train):
    with h5py.File(path, "w") as f:
        f.attrs["keras_version"] = np.bytes_("2.4.0")
        f.attrs["backend"] = np.bytes_("tensorflow")
        f.attrs["model_config"] = np.bytes_(json.dumps(model_config))
        if train is not None:
            f.attrs["training_config"] = np.bytes_(json.dumps(train))
        g = f.create_group("model_weights")
        names = [input_name] + [d.name for d in dense_layers]
        g.attrs["layer_names"] = np.array([n.encode() for n in names])
        g.attrs["backend"] = np.bytes_("tensorflow")
        g.attrs["keras_version"] = np.bytes_("2.4.0")
        g.create_group(input_name).attrs["weight_names"] = np.array([], dtype="S1")
        for d in dense_layers:
            lg = g.create_group(d.name)
            lg.attrs["weight_names"] = np.array([f"{d.name}/kernel:0".encode(), f"{d.name}/bias:0".encode()])
            lg.create_dataset(f"{d.name}/kernel:0", data=d.kernel)
            lg.create_dataset(f"{d.name}/bias:0", data=d.bias)


X = rng.normal(0, 1, (N, N_IN)).astype(np.float32)
X64 = X.astype(np.float64)
expected = {"features": X.tolist(), "fixtures": {}}


def one_hot(k):
    return np.eye(k)[rng.integers(0, k, N)]


def sequential(file, units, activation, loss, loss_fn, labels, train=True):
    """Input(N_IN) -> Dense(N_HIDDEN, tanh) -> Dense(units, activation); loss_fn(labels, output) is Keras' loss."""
    hidden = Dense("dense", N_HIDDEN, "tanh", N_IN)
    head = Dense("dense_1", units, activation, N_HIDDEN)
    config = {"class_name": "Sequential", "config": {"name": "sequential", "layers": [
        {"class_name": "InputLayer", "config": input_config("dense_input")},
        {"class_name": "Dense", "config": dense_config(hidden.name, N_HIDDEN, "tanh")},
        {"class_name": "Dense", "config": dense_config(head.name, units, activation)}]},
        "keras_version": "2.4.0", "backend": "tensorflow"}
    write_h5(os.path.join(OUT, file), config, [hidden, head], "dense_input",
             training_config(loss) if train else None)
    entry = {"labels": [labels.tolist()], "output": [head(hidden(X64)).tolist()]}
    if loss_fn is not None:
        entry["loss"] = loss_fn(labels, head(hidden(X64)))
    expected["fixtures"][file] = entry


def two_heads(file, loss, loss_fns, labels):
    """input_1 -> dense (tanh) -> head_a Dense(3, softmax) and head_b Dense(2, softmax): Keras sums both losses."""
    hidden = Dense("dense", N_HIDDEN, "tanh", N_IN)
    heads = [Dense("head_a", 3, "softmax", N_HIDDEN), Dense("head_b", 2, "softmax", N_HIDDEN)]

    def node(cls, config, inbound):
        return {"class_name": cls, "config": config, "name": config["name"],
                "inbound_nodes": [[[inbound, 0, 0, {}]]] if inbound else []}

    config = {"class_name": "Functional", "config": {"name": "model", "layers": [
        node("InputLayer", input_config("input_1"), None),
        node("Dense", dense_config("dense", N_HIDDEN, "tanh"), "input_1"),
        node("Dense", dense_config("head_a", 3, "softmax"), "dense"),
        node("Dense", dense_config("head_b", 2, "softmax"), "dense")],
        "input_layers": [["input_1", 0, 0]], "output_layers": [["head_a", 0, 0], ["head_b", 0, 0]]},
        "keras_version": "2.4.0", "backend": "tensorflow"}
    write_h5(os.path.join(OUT, file), config, [hidden] + heads, "input_1", training_config(loss))
    outputs = [h(hidden(X64)) for h in heads]
    expected["fixtures"][file] = {
        "labels": [y.tolist() for y in labels], "output": [o.tolist() for o in outputs],
        "loss": sum(fn(y, o) for fn, y, o in zip(loss_fns, labels, outputs))}


def cce_fn(s, from_logits=False):
    return lambda y, out: categorical_crossentropy(y, out, from_logits, s)


def bce_fn(s, from_logits=False):
    return lambda y, out: binary_crossentropy(y, out, from_logits, s)


# The table, one row per fixture, then the cases that must stay as DL4J imports them.
sequential("seq_cce_smoothed.h5", 3, "softmax", cce(0.1), cce_fn(0.1), one_hot(3))
sequential("seq_bce_smoothed.h5", 1, "sigmoid", bce(0.1), bce_fn(0.1), rng.integers(0, 2, (N, 1)).astype(float))
sequential("seq_bce_multilabel.h5", 3, "sigmoid", bce(0.1), bce_fn(0.1), rng.integers(0, 2, (N, 3)).astype(float))
sequential("seq_bce_logits.h5", 1, "linear", bce(0.1, from_logits=True), bce_fn(0.1, from_logits=True),
           rng.integers(0, 2, (N, 1)).astype(float))
sequential("seq_cce_logits.h5", 3, "linear", cce(0.1, from_logits=True), cce_fn(0.1, from_logits=True), one_hot(3))
sequential("seq_cce_logits_unsmoothed.h5", 3, "linear", cce(0.0, from_logits=True), cce_fn(0.0, from_logits=True),
           one_hot(3))
sequential("seq_cce_custom_name.h5", 3, "softmax", cce(0.1, name="smoothed_cce"), cce_fn(0.1), one_hot(3))
sequential("seq_sparse_logits.h5", 4, "linear",
           loss_object("SparseCategoricalCrossentropy", "sparse_categorical_crossentropy", from_logits=True),
           lambda idx, out: sparse_categorical_crossentropy(idx[:, 0].astype(int), out, True),
           rng.integers(0, 4, (N, 1)).astype(float))
# tf.keras 2.x's SparseCategoricalCrossentropy has no label_smoothing; a config written by hand may name one.
sequential("seq_sparse_smoothed.h5", 4, "softmax",
           loss_object("SparseCategoricalCrossentropy", "sparse_categorical_crossentropy", from_logits=False,
                       label_smoothing=0.2),
           lambda idx, out: sparse_categorical_crossentropy(idx[:, 0].astype(int), out, False, 0.2),
           rng.integers(0, 4, (N, 1)).astype(float))
two_heads("func_dict_one_smoothed.h5", {"head_a": cce(0.1), "head_b": "categorical_crossentropy"},
          [cce_fn(0.1), cce_fn(0.0)], [one_hot(3), one_hot(2)])
two_heads("func_one_loss_two_heads.h5", cce(0.1), [cce_fn(0.1), cce_fn(0.1)], [one_hot(3), one_hot(2)])
two_heads("func_list_losses.h5", ["categorical_crossentropy", cce(0.2)], [cce_fn(0.0), cce_fn(0.2)],
          [one_hot(3), one_hot(2)])

# Unchanged: what DL4J's own KerasModelImport gives is the reference (no Keras loss needed).
sequential("seq_plain_string.h5", 3, "softmax", "categorical_crossentropy", cce_fn(0.0), one_hot(3))
sequential("seq_no_training_config.h5", 3, "softmax", None, None, one_hot(3), train=False)

# Bad input: each must be refused with a message naming the value.
sequential("bad_smoothing.h5", 3, "softmax", cce(1.5), None, one_hot(3))
sequential("bad_unmappable_loss.h5", 3, "softmax", loss_object("Huber", "huber_loss", delta=1.0), None, one_hot(3))
sequential("bad_reduction.h5", 3, "softmax", loss_object("CategoricalCrossentropy", "categorical_crossentropy",
                                                         reduction="sum", from_logits=False, label_smoothing=0.1),
           None, one_hot(3))
# A subclass of CategoricalCrossentropy has its own class_name: its label_smoothing cannot be kept, so it is refused.
sequential("bad_smoothing_on_subclass.h5", 3, "softmax",
           loss_object("SmoothedCce", "smoothed_cce", from_logits=False, label_smoothing=0.1), None, one_hot(3))
two_heads("bad_dict_unknown_output.h5", {"head_a": cce(0.1), "head_c": "categorical_crossentropy"},
          [cce_fn(0.1), cce_fn(0.0)], [one_hot(3), one_hot(2)])
two_heads("bad_list_length.h5", [cce(0.1)], [cce_fn(0.1), cce_fn(0.1)], [one_hot(3), one_hot(2)])
# Unchanged, functional: one loss name for both outputs.
two_heads("func_plain_string.h5", "categorical_crossentropy", [cce_fn(0.0), cce_fn(0.0)], [one_hot(3), one_hot(2)])
# Settings that change Keras' numbers and that the import does not implement: refused by name, never dropped.
# tf.keras 2.10+ / Keras 3: SparseCategoricalCrossentropy(ignore_class=0) averages over the examples of other classes.
sequential("bad_sparse_ignore_class.h5", 4, "linear",
           loss_object("SparseCategoricalCrossentropy", "sparse_categorical_crossentropy", from_logits=True,
                       ignore_class=0),
           None, rng.integers(0, 4, (N, 1)).astype(float))
# A focal loss under the name of the loss DL4J maps (the name is the user's): gamma and alpha change the numbers.
sequential("bad_focal_renamed.h5", 1, "sigmoid",
           loss_object("BinaryFocalCrossentropy", "binary_crossentropy", apply_class_balancing=False, alpha=0.25,
                       gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1),
           None, rng.integers(0, 2, (N, 1)).astype(float))
sequential("bad_axis.h5", 3, "softmax", loss_object("CategoricalCrossentropy", "categorical_crossentropy",
                                                    from_logits=False, label_smoothing=0.1, axis=1),
           None, one_hot(3))
# Keras 2 warns and does not train an output missing from a dict of losses or whose loss is None.
def untrained(y, out):
    return 0.0


two_heads("bad_dict_missing_output.h5", {"head_a": cce(0.1)}, [cce_fn(0.1), untrained], [one_hot(3), one_hot(2)])
two_heads("bad_list_none.h5", [cce(0.1), None], [cce_fn(0.1), untrained], [one_hot(3), one_hot(2)])
# Settings at the values that change nothing import: tf.keras 2.10+ writes ignore_class None; Keras 3 wraps a loss in
# module/registered_name, writes a dtype policy and names the batch mean sum_over_batch_size.
sequential("seq_sparse_ignore_class_none.h5", 4, "linear",
           loss_object("SparseCategoricalCrossentropy", "sparse_categorical_crossentropy", from_logits=True,
                       ignore_class=None),
           lambda idx, out: sparse_categorical_crossentropy(idx[:, 0].astype(int), out, True),
           rng.integers(0, 4, (N, 1)).astype(float))
sequential("seq_cce_keras3_config.h5", 3, "softmax",
           {"module": "keras.losses", "registered_name": None, **loss_object(
               "CategoricalCrossentropy", "categorical_crossentropy", reduction="sum_over_batch_size",
               from_logits=False, label_smoothing=0.1, axis=-1,
               dtype={"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
                      "registered_name": None})},
           cce_fn(0.1), one_hot(3))
with h5py.File(os.path.join(OUT, "not_keras.h5"), "w") as f:
    f.create_dataset("x", data=np.zeros(3, dtype=np.float32))

with open(os.path.join(OUT, "expected.json"), "w") as f:
    json.dump(expected, f, indent=1)
    f.write("\n")
print("wrote", len(expected["fixtures"]), "fixtures to", OUT)
