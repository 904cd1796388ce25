"""Model's Keras 3 step methods and the fit / evaluate / predict loops that call them (steps.py says
when a model takes these loops instead of the built-in batched one, and what a step is given).

Keras 3 with the torch backend is the reference: a custom ``train_step`` calls ``self.zero_grad()``,
``self(x, training=True)``, ``self.compute_loss(...)``, ``loss.backward()``, then
``self.optimizer.apply(grads, self.trainable_weights)`` and updates ``self.metrics``; the default
steps below do the same.
"""
import numpy as np

from ...autograd import no_grad
from ...ops.shape import cat
from ...tensor import Tensor
from .. import callbacks as _callbacks
from .. import metrics as _metrics
from ..utils import Progbar
from . import distribute as _distribute
from .steps import (CompiledLoss, CompileMetrics, flatten_logs, is_step_source, make_batches, pack_x_y_sample_weight,
                    unpack_x_y_sample_weight, _leaves, _to_tensor, _tree_map, _batch_size_of)


def _mark_stateful(cbks, names):
    """A step's logs are running means already: the progress bar shows them as they are, not averaged."""
    for cb in cbks.callbacks:
        if isinstance(cb, _callbacks.ProgbarLogger):
            cb.stateful_metrics.update(names)
            if cb.progbar is not None:
                cb.progbar.stateful_metrics.update(names)


def _class_weights_to_sample_weights(y, class_weight):
    y = np.asarray(y.numpy() if isinstance(y, Tensor) else y)
    classes = y.argmax(axis=-1) if y.ndim > 1 and y.shape[-1] > 1 else y.reshape(len(y), -1)[:, 0].round()
    missing = sorted({int(c) for c in np.unique(classes)} - {int(k) for k in class_weight})
    if missing:
        raise ValueError(f"class_weight has no weight for the class(es) {missing} found in y")
    return np.array([class_weight[int(c)] for c in classes], np.float32)


def _split_for_validation(x, y, sample_weight, validation_split):
    if not 0.0 < validation_split < 1.0:
        raise ValueError(f"fit: validation_split must be in [0, 1), got {validation_split}")
    n = int(_leaves(x)[0].shape[0])
    at = int(n * (1.0 - validation_split))

    def part(data, sl):
        if isinstance(data, (list, tuple)):
            return type(data)(part(d, sl) for d in data)
        if isinstance(data, dict):
            return {k: part(v, sl) for k, v in data.items()}
        return None if data is None else data[sl]
    head, tail = slice(0, at), slice(at, n)
    return (part(x, head), part(y, head), part(sample_weight, head)), (part(x, tail), part(y, tail),
                                                                         part(sample_weight, tail))


class StepsMixin:
    """train_step / test_step / predict_step, compute_loss / compute_metrics and the step loops."""
    _defines_call = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "call" in cls.__dict__:
            # A subclassed model's call() sees (and returns) tensors in Keras' layout, as its layers do.
            cls._defines_call = True
            cls._internal_layout = False

    def _uses_steps(self, *steps):
        """True when this model runs the step loops: its class overrides one of `steps`, or it has no layer
        graph to replay (a subclassed model with its own call)."""
        cls = type(self)
        return self._defines_call or any(getattr(cls, s) is not getattr(StepsMixin, s) for s in steps)

    def _compile_steps(self, loss, metrics, loss_weights):
        self._step_loss = CompiledLoss(loss, loss_weights)
        self._loss_tracker = _metrics.Mean(name="loss")
        self._compile_metrics = CompileMetrics(self, metrics, self._step_loss) if metrics else None

    # ---- what a step uses --------------------------------------------------------------------------
    @property
    def metrics(self):
        """Keras 3's list: the loss tracker and the compiled metrics (after compile), then the Metric objects
        the model holds as attributes. fit and evaluate reset all of them before each epoch / evaluation."""
        out = []
        if getattr(self, "_compiled", False):
            out.append(self._loss_tracker)
            if self._compile_metrics is not None:
                out.append(self._compile_metrics)
        out += [v for v in vars(self).values() if isinstance(v, _metrics.Metric) and v not in out]
        return out

    def reset_metrics(self):
        for m in self.metrics:
            m.reset_state()

    def get_metrics_result(self):
        """{name: value} of self.metrics, a compile_metrics' dict merged in."""
        out = {}
        for m in self.metrics:
            r = m.result()
            out.update(r if isinstance(r, dict) else {m.name: r})
        return out

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """compile()'s loss of y_pred against y (weighted by sample_weight), plus the model's losses (weight
        penalties, activity penalties and add_loss terms of the last call)."""
        if not getattr(self, "_compiled", False):
            raise RuntimeError("compute_loss: compile the model first (model.compile(optimizer, loss))")
        if y_pred is None:
            raise ValueError("compute_loss: y_pred is required")
        total = self._step_loss(self, y, y_pred, sample_weight) if self._step_loss.loss is not None else None
        for term in self.losses:
            term = term.mean() if term.ndim else term
            total = term if total is None else total + term
        if total is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Updates the compiled metrics with this batch and returns get_metrics_result()."""
        if self._compile_metrics is not None and y is not None:
            self._compile_metrics.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    # ---- the default steps (what a custom one usually replaces) -------------------------------------
    def train_step(self, data):
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=True)
        self._loss_tracker.update_state(loss.detach(), sample_weight=_batch_size_of(x))
        weights = self.trainable_weights
        if weights:
            loss.backward()
            with no_grad():
                self.optimizer.apply([w.grad for w in weights], weights)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def test_step(self, data):
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=False)
        self._loss_tracker.update_state(loss.detach(), sample_weight=_batch_size_of(x))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def predict_step(self, data):
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    # ---- the loops -----------------------------------------------------------------------------------
    def _check_step_compiled(self, who):
        if not getattr(self, "_compiled", False):
            raise RuntimeError(f"You must call `compile()` before using the model ({who}).")

    def _fit_steps(self, x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data, shuffle,
                   class_weight, sample_weight, initial_epoch, steps_per_epoch, validation_steps):
        self._check_step_compiled("fit")
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError("fit: give class_weight or sample_weight, not both")
            if y is None or isinstance(y, (list, tuple, dict)):
                raise ValueError("fit: class_weight needs a single target array y")
            sample_weight = _class_weights_to_sample_weights(y, class_weight)
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = _split_for_validation(x, y, sample_weight, validation_split)
        if _distribute.active() and not is_step_source(x):  # this rank's shard of the arrays (distribute.py)
            n = int(_leaves(_tree_map(_to_tensor, x))[0].shape[0])
            x, y, sample_weight = (_distribute.shard_tree(d, n) for d in (x, y, sample_weight))
        train = make_batches(x, y, sample_weight, batch_size, shuffle, steps_per_epoch, "fit")
        val = None
        if validation_data is not None:
            vx, vy, vw = (unpack_x_y_sample_weight(validation_data) if isinstance(validation_data, (list, tuple))
                          else (validation_data, None, None))
            val = make_batches(vx, vy, vw, batch_size, False, validation_steps, "fit: validation_data")
        if _distribute.active():
            _distribute.broadcast_weights(self.weights)
            verbose = _distribute.quiet_unless_rank0(verbose)
        cbks = _callbacks.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0, model=self,
                                       verbose=verbose, epochs=epochs, steps=train.steps)
        self.stop_training = False
        cbks.on_train_begin()
        with _distribute.averaging_in_apply():  # optimizer.apply averages across ranks meanwhile
            try:
                for epoch in range(initial_epoch, epochs):
                    self.reset_metrics()
                    cbks.on_epoch_begin(epoch)
                    self.train()
                    logs = {}
                    for step, batch in enumerate(train.epoch()):
                        cbks.on_train_batch_begin(step)
                        logs = flatten_logs(self.train_step(batch), "train_step")
                        _mark_stateful(cbks, logs)
                        cbks.on_train_batch_end(step, logs)
                        if self.stop_training:
                            break
                    epoch_logs = dict(logs)
                    if _distribute.active():
                        epoch_logs = _distribute.average_logs({k: v for k, v in epoch_logs.items()
                                                               if isinstance(v, float)})
                    if val is not None:
                        epoch_logs.update({"val_" + k: v for k, v in self._test_loop(val, cbks).items()})
                    self.eval()
                    cbks.on_epoch_end(epoch, epoch_logs)
                    if self.stop_training:
                        break
            finally:
                self.eval()
        cbks.on_train_end()
        self.history = cbks.history
        return cbks.history

    def _test_loop(self, data, cbks, bar=None):
        self.reset_metrics()
        self.eval()
        self.stop_evaluating = False
        cbks.on_test_begin()
        logs, steps = {}, 0
        with no_grad():
            for step, batch in enumerate(data.epoch()):
                cbks.on_test_batch_begin(step)
                logs = flatten_logs(self.test_step(batch), "test_step")
                steps += 1
                if bar is not None:
                    bar.stateful_metrics.update(logs)
                    bar.update(step + 1, list(logs.items()))
                cbks.on_test_batch_end(step, logs)
                if self.stop_evaluating:
                    break
        if steps == 0:
            raise ValueError("evaluate: no batches given")
        cbks.on_test_end(logs)
        return logs

    def _evaluate_steps(self, x, y, batch_size, verbose, sample_weight, steps, callbacks, return_dict):
        self._check_step_compiled("evaluate")
        data = make_batches(x, y, sample_weight, batch_size, False, steps, "evaluate")
        cbks = _callbacks.CallbackList(callbacks, model=self, verbose=verbose, epochs=1, steps=data.steps)
        bar = Progbar(target=data.steps, verbose=verbose) if verbose else None
        logs = self._test_loop(data, cbks, bar)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    def _predict_steps(self, x, batch_size, verbose, steps, callbacks):
        data = make_batches(x, None, None, batch_size, False, steps, "predict")
        cbks = _callbacks.CallbackList(callbacks, model=self, verbose=verbose, epochs=1, steps=data.steps)
        bar = Progbar(target=data.steps, verbose=verbose) if verbose else None
        self.eval()
        self.stop_predicting = False
        outputs = []
        cbks.on_predict_begin()
        with no_grad():
            for step, batch in enumerate(data.epoch()):
                cbks.on_predict_batch_begin(step)
                out = self.predict_step(batch)
                outputs.append(out)
                if bar is not None:
                    bar.update(step + 1)
                cbks.on_predict_batch_end(step, {"outputs": out})
                if self.stop_predicting:
                    break
        cbks.on_predict_end()
        if not outputs:
            raise ValueError("predict: no batches given")
        return _concat_outputs(outputs)

    def _train_on_batch_steps(self, x, y, sample_weight, class_weight, return_dict):
        self._check_step_compiled("train_on_batch")
        if class_weight is not None:
            if sample_weight is not None:
                raise ValueError("train_on_batch: give class_weight or sample_weight, not both")
            sample_weight = _class_weights_to_sample_weights(y, class_weight)
        batch = make_batches(x, y, sample_weight, _batch_size_of(x), False, None, "train_on_batch")
        self.reset_metrics()  # Keras 3: the logs of this one batch
        self.train()
        try:
            logs = flatten_logs(self.train_step(next(batch.epoch())), "train_step")
        finally:
            self.eval()
        return _logs_result(logs, return_dict)

    def _test_on_batch_steps(self, x, y, sample_weight, return_dict):
        self._check_step_compiled("test_on_batch")
        self.reset_metrics()  # Keras 3: the logs of this one batch
        batch = make_batches(x, y, sample_weight, _batch_size_of(x), False, None, "test_on_batch")
        self.eval()
        with no_grad():
            logs = flatten_logs(self.test_step(next(batch.epoch())), "test_step")
        return _logs_result(logs, return_dict)


def _logs_result(logs, return_dict):
    if return_dict:
        return logs
    values = list(logs.values())
    return values[0] if len(values) == 1 else values


def _concat_outputs(outputs):
    """Batches of predictions (tensors, or lists / dicts of them) -> NumPy arrays of the same structure."""
    first = outputs[0]
    if isinstance(first, dict):
        return {k: _concat_outputs([o[k] for o in outputs]) for k in first}
    if isinstance(first, (list, tuple)):
        return [_concat_outputs([o[i] for o in outputs]) for i in range(len(first))]
    parts = [_to_tensor(o).detach() for o in outputs]
    return (cat(parts, 0) if len(parts) > 1 else parts[0]).numpy()


__all__ = ["StepsMixin", "pack_x_y_sample_weight", "unpack_x_y_sample_weight"]
