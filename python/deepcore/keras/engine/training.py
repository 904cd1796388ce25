"""Model: a Network that compiles and trains (compile, fit/evaluate/predict, *_on_batch, save).

fit runs one forward, one backward and one fused optimizer update per batch, over the batches a
DataAdapter (data_adapter.py) makes of arrays, a generator or a keras.utils.Sequence; evaluate
and predict run the same batches without gradients. Scoring a batch evaluates the losses, the
weight and activity penalties, the layers' and the model's added losses (deferred expressions on
the model's symbolic tensors included, against the tensors that pass computed) and the metrics.
"""
import numpy as np

from ...autograd import no_grad
from ...ops.shape import cat
from .. import _symbolic
from .. import callbacks as _callbacks
from .. import losses as _losses
from .. import metrics as _metrics
from .. import optimizers as _optimizers
from .._common import as_list, as_tensor, to_keras, unpack
from ..layers.serialization import register
from ..utils import Progbar
from . import distribute as _distribute
from . import saving
from .data_adapter import (DataAdapter, build_from_source, check_lengths, is_batch_source, maybe_build_from,
                           prepare_inputs, prepare_targets, prepare_weights, source_steps, to_array)
from .functional import Network
from .step_loops import StepsMixin


class Model(StepsMixin, Network):
    """``Model(inputs, outputs)``: a graph of layers from Input tensors to output tensors."""

    def __init__(self, inputs=None, outputs=None, name=None, **kwargs):
        super().__init__(inputs, outputs, name=name, **kwargs)
        self.optimizer = None
        self.stop_training = False
        self.stop_evaluating = self.stop_predicting = False  # set by a callback to end evaluate / predict early
        self.history = None
        self._compiled = False

    # ---- compile ---------------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, sample_weight_mode=None,
                weighted_metrics=None, target_tensors=None, **kwargs):
        if kwargs:
            raise TypeError(f"compile: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
        if sample_weight_mode is not None or weighted_metrics or target_tensors is not None:
            raise NotImplementedError("compile: sample_weight_mode, weighted_metrics and target_tensors are not "
                                      "supported by deepcore.keras")
        self.optimizer = _optimizers.get(optimizer)
        self.loss, self._metrics_spec, self.loss_weights = loss, metrics, loss_weights
        self._compile_steps(loss, metrics, loss_weights)
        self._compiled = True
        if self.built and self.outputs:
            self._compile_outputs()

    def _compile_outputs(self):
        names = self.output_names
        n = len(self.outputs)
        loss = self.loss
        if isinstance(loss, dict):
            missing = [k for k in loss if k not in names]
            if missing:
                raise ValueError(f"compile: unknown output(s) {missing} in the loss dictionary; outputs are {names}")
            specs = [loss.get(k) for k in names]
        elif isinstance(loss, (list, tuple)):
            if len(loss) != n:
                raise ValueError(f"compile: when passing a list as loss, it should have one entry per model output "
                                 f"({n}), got {len(loss)}")
            specs = list(loss)
        else:
            specs = [loss] * n
        # An output whose loss is None is not trained against a target (a model may train on losses its
        # layers add with add_loss alone: compile(optimizer) and fit(x)).
        self._loss_fns = [None if s is None else _losses.get(s) for s in specs]
        self._loss_means = [None if fn is None else _losses.batch_mean(fn) for fn in self._loss_fns]
        self._targets = [i for i, fn in enumerate(self._loss_fns) if fn is not None]
        lw = self.loss_weights
        if lw is None:
            self._loss_weights = [1.0] * n
        elif isinstance(lw, dict):
            self._loss_weights = [float(lw.get(k, 1.0)) for k in names]
        else:
            if len(lw) != n:
                raise ValueError(f"compile: loss_weights should have one entry per output ({n}), got {len(lw)}")
            self._loss_weights = [float(w) for w in lw]
        metrics = self._metrics_spec or []
        per_output = [metrics.get(k, []) for k in names] if isinstance(metrics, dict) else [metrics] * n
        self._metric_fns = []
        for i, ms in enumerate(per_output):
            if self._loss_fns[i] is None and as_list(ms):
                raise ValueError(f"compile: output {names[i]!r} has metrics {as_list(ms)} but no loss; metrics "
                                 f"compare an output with its target, which fit only takes for outputs with a loss")
            resolved = [_metrics.resolve(m, self._loss_fns[i], self.outputs[i].shape) for m in as_list(ms)]
            self._metric_fns.append(resolved)
        self.metrics_names = ["loss"]
        if n > 1:
            self.metrics_names += [f"{names[i]}_loss" for i in self._targets]
        for i, resolved in enumerate(self._metric_fns):
            self.metrics_names += [(f"{names[i]}_{m}" if n > 1 else m) for m, _ in resolved]
        self._sparse_targets = [getattr(fn, "__name__", "") == "sparse_categorical_crossentropy"
                                for fn in self._loss_fns]
        self._activity_layers = [l for l in self._all_layers() if l.activity_regularizer is not None]
        self._layers_flat = self._all_layers()
        # Keras 2 reads `trainable` when compiling: a GAN's discriminator, compiled and then frozen inside
        # the combined model, still trains in its own train_on_batch (compile again to apply a change).
        self._compiled_trainable = list(self.trainable_weights)
        self._has_weight_regularizers = any(spec.regularizer is not None
                                            for _, spec in self._weight_entries("all"))

    def _check_compiled(self):
        if not self._compiled:
            raise RuntimeError("You must compile your model before training/testing. Use "
                               "`model.compile(optimizer, loss)`.")
        if not hasattr(self, "_loss_fns"):
            self._compile_outputs()

    # ---- scoring ---------------------------------------------------------------------------------
    def _weighted_loss(self, i, y, out, w):
        """Keras 2's weighted objective: mean(loss_i * w_i) / mean(w_i != 0), per-sample losses
        first averaged over any axes after the batch."""
        if isinstance(self._loss_fns[i], _losses.Loss):  # a Keras 3 loss object weighs and reduces by its rule
            return self._loss_fns[i](y, out, sample_weight=w)
        per = self._loss_fns[i](y, out)
        if per.ndim > 1:
            per = per.mean(dim=tuple(range(1, per.ndim)))
        loss = (per * w).mean()
        nonzero = float((w != 0).float().mean().item())
        return loss * (1.0 / nonzero) if nonzero > 0 else loss

    def _losses_and_metrics(self, outs, ys, with_metrics=True, ws=None):
        """(total loss tensor, [python floats in metrics_names order except the first])."""
        try:
            with _symbolic.graph_values(self._pass_values or {}):  # losses may read the model's symbolic tensors
                return self._score(outs if isinstance(outs, list) else [outs], ys, with_metrics, ws)
        finally:  # the pass' intermediate tensors are not kept past scoring (nested models' neither)
            for model in [self] + [l for l in self._layers_flat if isinstance(l, Network)]:
                model._pass_values = None

    def _score(self, outs, ys, with_metrics, ws):
        per_output, total = [], None
        for k, (i, y) in enumerate(zip(self._targets, ys)):
            w = ws[k] if ws else None
            loss = self._loss_means[i](y, to_keras(outs[i])) if w is None else \
                self._weighted_loss(i, y, to_keras(outs[i]), w)
            per_output.append(loss)
            weighted = loss if self._loss_weights[i] == 1.0 else loss * self._loss_weights[i]
            total = weighted if total is None else total + weighted
        if self._has_weight_regularizers:
            penalty = self._regularization_penalty()
            if penalty is not None:
                total = penalty if total is None else total + penalty
        for layer in self._activity_layers:
            for p in layer._activity_penalties:
                total = p if total is None else total + p
        for layer in self._layers_flat:
            for p in layer._added_losses:
                total = p if total is None else total + p
        for term in self._model_losses:
            p = _symbolic.resolve(term() if callable(term) else term)
            p = as_tensor(p)
            p = p.mean() if p.ndim else p
            total = p if total is None else total + p
        if total is None:
            raise ValueError(f"{self.name}: nothing to minimize: compile(loss=None) and no layer called add_loss")
        values = []
        if len(outs) > 1:
            values += [l.item() for l in per_output]
        if with_metrics:
            with no_grad():
                for i, y in zip(self._targets, ys):
                    if self._metric_fns[i]:
                        o = to_keras(outs[i].detach())
                        values += [float(fn(y, o).mean().item()) for _, fn in self._metric_fns[i]]
        return total, values

    # ---- steps -----------------------------------------------------------------------------------
    def _bind_optimizer(self):
        self.optimizer._bind(self._compiled_trainable)

    def _train_grads(self, on):
        """During this model's steps only the weights compile saw as trainable take gradients; after them,
        each weight's requires_grad follows its layer's `trainable` again."""
        wanted = {id(w) for w in self._compiled_trainable}
        for layer, spec in self._weight_entries("all"):
            w = layer._weight(spec)
            if spec.trainable:
                w.requires_grad_(id(w) in wanted if on else layer._trainable)

    def _train_batch(self, xs, ys, ws=None):
        outs = self._run_graph(xs)
        total, values = self._losses_and_metrics(outs, ys, ws=ws)
        self.optimizer.zero_grad()
        total.backward()
        if _distribute.active():
            _distribute.average_gradients(self._compiled_trainable)
        self.optimizer.step()
        return [total.item()] + values

    def _evaluate_batches(self, batches, progress=None, callbacks=None):
        """Sample-weighted means of the loss and metrics over (size, xs, ys, ws) batches.

        With `callbacks` (a CallbackList) the test hooks run as in Keras 3: on_test_begin, then per batch
        on_test_batch_begin(step) and on_test_batch_end(step, logs) with the running means so far (Keras'
        metrics accumulate over the batches), and on_test_end(logs) with the final values."""
        sums, seen = None, 0
        names = self.metrics_names
        self.eval()
        self.stop_evaluating = False
        if callbacks is not None:
            callbacks.on_test_begin()
        with no_grad():
            for step, (size, bx, by, bw) in enumerate(batches):
                if callbacks is not None:
                    callbacks.on_test_batch_begin(step)
                total, values = self._losses_and_metrics(self._run_graph(bx), by, ws=bw)
                row = np.array([total.item()] + values, dtype=np.float64) * size
                sums = row if sums is None else sums + row
                seen += size
                if progress is not None or callbacks is not None:
                    running = dict(zip(names, (float(v) for v in sums / seen)))
                    if progress is not None:
                        progress(step + 1, running)
                    if callbacks is not None:
                        callbacks.on_test_batch_end(step, running)
                if self.stop_evaluating:
                    break
        if seen == 0:
            raise ValueError("evaluate: no samples given")
        result = [float(v) for v in sums / seen]
        if callbacks is not None:
            callbacks.on_test_end(dict(zip(names, result)))
        return result

    # ---- public training API -----------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose=1, callbacks=None, validation_split=0.0,
            validation_data=None, shuffle=True, class_weight=None, sample_weight=None, initial_epoch=0,
            steps_per_epoch=None, validation_steps=None, **kwargs):
        """Arrays, or a generator / keras.utils.Sequence yielding (x, y[, sample_weight]) batches
        (then steps_per_epoch, for a generator, says how many batches make an epoch)."""
        if "nb_epoch" in kwargs:
            epochs = kwargs.pop("nb_epoch")
        verbose = 1 if verbose == "auto" else verbose  # Keras 3's default: a redrawn bar
        if kwargs:
            raise TypeError(f"fit: unexpected keyword argument(s) {', '.join(sorted(kwargs))}")
        if x is None:
            raise ValueError("fit: x is required")
        if self._uses_steps("train_step", "test_step"):
            return self._fit_steps(x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data,
                                   shuffle, class_weight, sample_weight, initial_epoch, steps_per_epoch,
                                   validation_steps)
        train = None
        if is_batch_source(x):
            if y is not None or sample_weight is not None or validation_split:
                raise ValueError("fit: a generator or Sequence yields (x, y[, sample_weight]) itself: do not pass "
                                 "y, sample_weight or validation_split with it")
            first = build_from_source(self, x)
            train = DataAdapter.from_source(self, x, source_steps(x, steps_per_epoch, "fit: steps_per_epoch"),
                                            shuffle, class_weight, first)
        elif steps_per_epoch is not None:
            raise ValueError("fit: steps_per_epoch is for generators and Sequences; with arrays, batch_size "
                             "sets the steps")
        else:
            maybe_build_from(self, x)
        batch_size = 32 if batch_size is None else int(batch_size)
        if batch_size < 1:
            raise ValueError(f"fit: batch_size must be positive, got {batch_size}")
        self._check_compiled()
        val, train_ws = None, None
        if validation_data is not None and is_batch_source(validation_data):
            val = DataAdapter.from_source(self, validation_data, source_steps(validation_data, validation_steps,
                                                                              "fit: validation_steps"))
        elif validation_data is not None:
            if not isinstance(validation_data, (list, tuple)) or len(validation_data) not in (2, 3):
                raise ValueError("fit: validation_data should be a tuple (val_x, val_y) or (val_x, val_y, "
                                 "val_sample_weights), a generator or a Sequence")
            val_x = prepare_inputs(self, validation_data[0])
            val_y = prepare_targets(self, validation_data[1])
            val_w = prepare_weights(self, val_y, validation_data[2] if len(validation_data) == 3 else None)
            val = (val_x, val_y, val_w)
        elif validation_split and 0.0 < validation_split < 1.0:
            xa = [to_array(a, "input") for a in (as_list(x) if len(self.inputs) > 1 else [x])]
            ya = [] if y is None else [to_array(a, "target") for a in (as_list(y) if len(self._targets) > 1 else [y])]
            split_at = int(int(xa[0].shape[0]) * (1.0 - validation_split))
            val_x = prepare_inputs(self, unpack([a[split_at:] for a in xa]) if len(xa) > 1 else xa[0][split_at:])
            val_y = prepare_targets(self, None if not ya else unpack([a[split_at:] for a in ya]) if len(ya) > 1
                                    else ya[0][split_at:])
            x = unpack([a[:split_at] for a in xa]) if len(xa) > 1 else xa[0][:split_at]
            # Weights come from all the samples (Keras 2), then split with them.
            all_ws = prepare_weights(self, prepare_targets(self, y), sample_weight, class_weight)
            train_ws = [None if w is None else w[:split_at] for w in all_ws]
            val = (val_x, val_y, [None if w is None else w[split_at:] for w in all_ws])
            y = None if not ya else unpack([a[:split_at] for a in ya]) if len(ya) > 1 else ya[0][:split_at]
        elif validation_split:
            raise ValueError(f"fit: validation_split must be in [0, 1), got {validation_split}")
        if train is None:
            xs, ys = prepare_inputs(self, x), prepare_targets(self, y)
            if check_lengths(xs, ys) == 0:
                raise ValueError("fit: no training samples")
            ws = train_ws or prepare_weights(self, ys, sample_weight, class_weight)
            if _distribute.active():  # this rank's shard (engine/distribute.py)
                xs, ys, ws = _distribute.shard(xs, ys, ws, check_lengths(xs, ys))
            train = DataAdapter.from_arrays(xs, ys, ws, batch_size, shuffle)
        if isinstance(val, tuple):
            val = DataAdapter.from_arrays(*val, batch_size)
        self._bind_optimizer()
        if _distribute.active():
            _distribute.broadcast_weights(self.weights)
            verbose = _distribute.quiet_unless_rank0(verbose)
        names = list(self.metrics_names)
        cbks = _callbacks.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                                       verbose=verbose, epochs=epochs, steps=train.steps, samples=train.samples,
                                       batch_size=train.batch_size, do_validation=val is not None,
                                       metrics=names + (["val_" + m for m in names] if val is not None else []))
        self.stop_training = False
        cbks.on_train_begin()
        self._train_grads(True)
        try:
            for epoch in range(initial_epoch, epochs):
                cbks.on_epoch_begin(epoch)
                self.train()
                sums, seen = [0.0] * len(names), 0
                batches = train.epoch()
                for step in range(train.steps):
                    size, bx, by, bw = next(batches)
                    cbks.on_train_batch_begin(step, {"batch": step, "size": size})
                    values = self._train_batch(bx, by, bw)
                    logs = {"batch": step, "size": size}
                    logs.update(zip(names, values))
                    for i, v in enumerate(values):
                        sums[i] += v * size
                    seen += size
                    cbks.on_train_batch_end(step, logs)
                    if self.stop_training:
                        break
                batches.close()
                train.on_epoch_end()
                epoch_logs = {k: s / max(seen, 1) for k, s in zip(names, sums)}
                if _distribute.active():
                    epoch_logs = _distribute.average_logs(epoch_logs)
                if val is not None:  # the test hooks run too, as in Keras 3 (fit's validation is an evaluate)
                    epoch_logs.update({"val_" + k: v for k, v in
                                       zip(names, self._evaluate_batches(val.epoch(), callbacks=cbks))})
                self.eval()
                cbks.on_epoch_end(epoch, epoch_logs)
                if self.stop_training:
                    break
        finally:
            self.eval()
            self._train_grads(False)
        cbks.on_train_end()
        history = cbks.history
        self.history = history
        return history

    def evaluate(self, x=None, y=None, batch_size=None, verbose=1, sample_weight=None, steps=None, callbacks=None,
                 return_dict=False):
        """Loss and metrics on arrays, or on `steps` batches of a generator / Sequence (a dict of them by
        name with return_dict=True). `callbacks` get the test hooks (see _evaluate_batches)."""
        verbose = 1 if verbose == "auto" else verbose
        if self._uses_steps("test_step"):
            return self._evaluate_steps(x, y, batch_size, verbose, sample_weight, steps, callbacks, return_dict)
        if is_batch_source(x):
            first = build_from_source(self, x)
            self._check_compiled()
            data = DataAdapter.from_source(self, x, source_steps(x, steps, "evaluate: steps"), first=first)
        else:
            if steps is not None:
                raise ValueError("evaluate: steps is for generators and Sequences; with arrays, batch_size sets them")
            batch_size = 32 if batch_size is None else int(batch_size)
            maybe_build_from(self, x)
            self._check_compiled()
            xs, ys = prepare_inputs(self, x), prepare_targets(self, y)
            if verbose:
                check_lengths(xs, ys)
            data = DataAdapter.from_arrays(xs, ys, prepare_weights(self, ys, sample_weight), batch_size)
        # The bar shows the running loss and metrics (Keras 3's evaluate line: "313/313 - loss: ... - acc: ...").
        bar = Progbar(target=data.steps, verbose=verbose, stateful_metrics=self.metrics_names) if verbose else None
        cbks = _callbacks.CallbackList(callbacks, model=self, verbose=verbose, epochs=1, steps=data.steps)
        result = self._evaluate_batches(
            data.epoch(), (lambda step, logs: bar.update(step, list(logs.items()))) if verbose else None,
            callbacks=cbks)
        if return_dict:
            return dict(zip(self.metrics_names, result))
        return result[0] if len(result) == 1 else result

    def predict(self, x, batch_size=None, verbose=0, steps=None, callbacks=None):
        """Outputs for arrays, or for `steps` batches of a generator / Sequence (their targets ignored)."""
        verbose = 1 if verbose == "auto" else verbose
        if self._uses_steps("predict_step"):
            return self._predict_steps(x, batch_size, verbose, steps, callbacks)
        if is_batch_source(x):
            first = build_from_source(self, x)
            data = DataAdapter.from_source(self, x, source_steps(x, steps, "predict: steps"), first=first,
                                           targets=False)
        else:
            if steps is not None:
                raise ValueError("predict: steps is for generators and Sequences; with arrays, batch_size sets them")
            batch_size = 32 if batch_size is None else int(batch_size)
            maybe_build_from(self, x)
            data = DataAdapter.from_arrays(prepare_inputs(self, x), [], [], batch_size)
        self.eval()
        chunks = None
        bar = Progbar(target=data.steps, verbose=verbose) if verbose else None
        # Keras 3's predict hooks: on_predict_begin, per batch on_predict_batch_begin(step) and
        # on_predict_batch_end(step, {'outputs': the batch's outputs}), on_predict_end.
        cbks = _callbacks.CallbackList(callbacks, model=self, verbose=verbose, epochs=1, steps=data.steps)
        self.stop_predicting = False
        cbks.on_predict_begin()
        with no_grad():
            for step, (_, bx, _, _) in enumerate(data.epoch()):
                cbks.on_predict_batch_begin(step)
                outs = self._run_graph(bx)
                self._pass_values = None  # nothing to score: keep no intermediate tensors
                outs = [to_keras(o) for o in (outs if isinstance(outs, list) else [outs])]
                if chunks is None:
                    chunks = [[] for _ in outs]
                for c, o in zip(chunks, outs):
                    c.append(o)
                if bar is not None:
                    bar.update(step + 1)
                cbks.on_predict_batch_end(step, {"outputs": outs[0] if self._single_output else outs})
                if self.stop_predicting:
                    break
        cbks.on_predict_end()
        if chunks is None:
            return [np.zeros((0,) + t.shape[1:], np.float32) for t in self.outputs] if not self._single_output \
                else np.zeros((0,) + tuple(self.outputs[0].shape[1:]), np.float32)
        arrays = [(cat(c, 0) if len(c) > 1 else c[0]).numpy() for c in chunks]
        return arrays[0] if self._single_output else arrays

    # Keras 2's generator spellings (fit/evaluate/predict take generators and Sequences directly).
    def fit_generator(self, generator, steps_per_epoch=None, epochs=1, verbose=1, callbacks=None,
                      validation_data=None, validation_steps=None, class_weight=None, max_queue_size=10, workers=1,
                      use_multiprocessing=False, shuffle=True, initial_epoch=0):
        """fit on a generator / Sequence; batches are drawn in this thread (max_queue_size, workers and
        use_multiprocessing are accepted and not used)."""
        if not is_batch_source(generator):
            raise TypeError(f"fit_generator: expected a generator or keras.utils.Sequence, got "
                            f"{type(generator).__name__} (for arrays use fit)")
        return self.fit(generator, steps_per_epoch=steps_per_epoch, epochs=epochs, verbose=verbose,
                        callbacks=callbacks, validation_data=validation_data, validation_steps=validation_steps,
                        class_weight=class_weight, shuffle=shuffle, initial_epoch=initial_epoch)

    def evaluate_generator(self, generator, steps=None, max_queue_size=10, workers=1, use_multiprocessing=False,
                           verbose=0):
        return self.evaluate(generator, steps=steps, verbose=verbose)

    def predict_generator(self, generator, steps=None, max_queue_size=10, workers=1, use_multiprocessing=False,
                          verbose=0):
        return self.predict(generator, steps=steps, verbose=verbose)

    def predict_on_batch(self, x):
        return self.predict(x, batch_size=max(1, len(as_list(x)[0]) if not isinstance(x, dict) else 1 << 30))

    def predict_classes(self, x, batch_size=32, verbose=0):
        proba = self.predict(x, batch_size=batch_size, verbose=verbose)
        return proba.argmax(axis=-1) if proba.shape[-1] > 1 else (proba > 0.5).astype("int32")

    def predict_proba(self, x, batch_size=32, verbose=0):
        return self.predict(x, batch_size=batch_size, verbose=verbose)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        if self._uses_steps("train_step"):
            return self._train_on_batch_steps(x, y, sample_weight, class_weight, return_dict)
        maybe_build_from(self, x)
        self._check_compiled()
        xs, ys = prepare_inputs(self, x), prepare_targets(self, y)
        check_lengths(xs, ys)
        self._bind_optimizer()
        self.train()
        self._train_grads(True)
        try:
            values = self._train_batch(xs, ys, prepare_weights(self, ys, sample_weight, class_weight))
        finally:
            self.eval()
            self._train_grads(False)
        if return_dict:
            return dict(zip(self.metrics_names, values))
        return values[0] if len(values) == 1 else values

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        if self._uses_steps("test_step"):
            return self._test_on_batch_steps(x, y, sample_weight, return_dict)
        maybe_build_from(self, x)
        self._check_compiled()
        xs, ys = prepare_inputs(self, x), prepare_targets(self, y)
        n = check_lengths(xs, ys)
        result = self._evaluate_batches(DataAdapter.from_arrays(xs, ys, prepare_weights(self, ys, sample_weight),
                                                                max(n, 1)).epoch())
        if return_dict:
            return dict(zip(self.metrics_names, result))
        return result[0] if len(result) == 1 else result

    # ---- files -----------------------------------------------------------------------------------
    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Architecture + weights (+ compile settings) in one safetensors file, written atomically; load
        with load_model. overwrite=False and the file exists: asks, as Keras does (FileExistsError when
        there is no terminal to ask)."""
        saving.save_model(self, filepath, include_optimizer, overwrite=overwrite)


register(Model)
