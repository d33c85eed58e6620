"""A custom training loop: `model.fit`'s job wherever several replicas train.

Keras 3's `model.fit` fails under `MultiWorkerMirroredStrategy` at the first step
(keras-team/keras#20585, tensorflow/tensorflow#72388), and under `MirroredStrategy` as soon as
`steps_per_execution > 1` (its multi-step loop over a distributed iterator: "You must feed a value
for placeholder tensor"). This loop does the same work with the tf.distribute primitives:
`experimental_distribute_dataset` splits each global batch across the replicas; one `tf.function`
runs `steps_per_execution` steps (each `strategy.run` on every replica) per call; each replica's
loss is its summed per-example loss divided by the GLOBAL batch (so the all-reduced gradients are
those of the global mean), and `strategy.reduce(SUM)` collects the figures. It drives the same
Keras callbacks as `fit` (progress bar, CSVLogger, BackupAndRestore, SwapEMAWeights around
validation, ...) and logs the same names (loss, accuracy, val_loss, val_accuracy), so
`training.fit` serves every strategy with one API.
"""

import keras
import tensorflow as tf

SUM = tf.distribute.ReduceOp.SUM


class CustomLoop:
    """Train and evaluate a compiled Keras model with an explicit distributed step."""

    def __init__(self, model, loss_fn, strategy, jit_compile=False, steps_per_execution=1):
        self.model, self.loss_fn, self.strategy = model, loss_fn, strategy
        self.optimizer = model.optimizer
        self.steps_per_execution = int(steps_per_execution)
        with strategy.scope():
            self.optimizer.build(model.trainable_variables)
        step = dict(jit_compile=jit_compile, reduce_retracing=True)
        self._train_step = tf.function(self._train_step, **step)
        self._eval_step = tf.function(self._eval_step, **step)
        self._train_steps = tf.function(self._train_steps, reduce_retracing=True)

    def _figures(self, y, predictions):
        """Per-replica summed loss, number of correct predictions, and batch size."""
        labels = tf.reshape(tf.cast(y, tf.int64), (-1,))
        predictions = tf.cast(predictions, tf.float32)
        loss_sum = tf.reduce_sum(self.loss_fn(labels, predictions))
        correct = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(predictions, -1), labels), tf.float32))
        return loss_sum, correct, tf.cast(tf.shape(labels)[0], tf.float32)

    def _regularisation(self):
        losses = [tf.cast(loss, tf.float32) for loss in self.model.losses]
        return tf.add_n(losses) if losses else tf.constant(0.0)

    def _train_step(self, x, y):
        def replica_step(x, y):
            context = tf.distribute.get_replica_context()
            global_batch = context.all_reduce(SUM, tf.cast(tf.shape(y)[0], tf.float32))
            with tf.GradientTape() as tape:
                loss_sum, correct, count = self._figures(y, self.model(x, training=True))
                loss = loss_sum / global_batch
                loss += self._regularisation() / context.num_replicas_in_sync
                scaled = self.optimizer.scale_loss(loss)
            gradients = tape.gradient(scaled, self.model.trainable_variables)
            self.optimizer.apply_gradients(zip(gradients, self.model.trainable_variables))
            return loss, correct, count

        per_replica = self.strategy.run(replica_step, args=(x, y))
        return [self.strategy.reduce(SUM, value, axis=None) for value in per_replica]

    def _train_steps(self, iterator, steps):
        """`steps` training steps in one call: (sum of loss x batch, correct, examples)."""
        totals = tf.zeros(3)
        for _ in tf.range(steps):
            x, y = next(iterator)
            loss, correct, count = self._train_step(x, y)
            totals += tf.stack([loss * count, correct, count])
        return totals

    def _eval_step(self, x, y):
        per_replica = self.strategy.run(
            lambda x, y: self._figures(y, self.model(x, training=False)), args=(x, y)
        )
        return [self.strategy.reduce(SUM, value, axis=None) for value in per_replica]

    def evaluate(self, dataset):
        """{"loss", "accuracy"} over the whole dataset (loss includes regularisation, as Keras')."""
        totals = [0.0, 0.0, 0.0]
        for x, y in self.strategy.experimental_distribute_dataset(dataset):
            totals = [t + float(v) for t, v in zip(totals, self._eval_step(x, y))]
        loss_sum, correct, count = totals
        loss = loss_sum / count + float(self._regularisation())
        return {"loss": loss, "accuracy": correct / count}

    def fit(self, train, *, epochs, steps_per_epoch=None, validation=None, callbacks=(), verbose=1,
            repeated=False):
        """Run epochs like `model.fit`, honouring BackupAndRestore's restored initial epoch.

        `steps_per_epoch=None` runs each epoch to the end of `train`; `repeated=True` means `train`
        is endless and one iterator serves every epoch (as `model.fit` with steps_per_epoch).
        """
        callbacks = keras.callbacks.CallbackList(
            list(callbacks), add_history=True, add_progbar=verbose != 0, model=self.model,
            verbose=verbose, epochs=epochs, steps=steps_per_epoch,
        )
        callbacks.on_train_begin()
        initial_epoch = self.model._initial_epoch or 0  # set by BackupAndRestore, as fit reads it
        self.model._initial_epoch = None
        distributed = self.strategy.experimental_distribute_dataset(train)
        shared_iterator = iter(distributed) if repeated else None
        logs = {}
        for epoch in range(initial_epoch, epochs):
            callbacks.on_epoch_begin(epoch)
            logs = self._train_epoch(shared_iterator or iter(distributed), steps_per_epoch,
                                     callbacks)
            if validation is not None:  # as model.fit: SwapEMAWeights swaps the EMA weights in
                callbacks.on_test_begin()
                figures = self.evaluate(validation)
                callbacks.on_test_end(figures)
                logs.update({f"val_{name}": value for name, value in figures.items()})
            callbacks.on_epoch_end(epoch, logs)
            if self.model.stop_training:
                break
        if epochs > 0:  # as model.fit: with EMA, the model ends with the averaged weights
            self.optimizer.finalize_variable_values(self.model.trainable_variables)
        callbacks.on_train_end(logs)

    def _train_epoch(self, iterator, steps_per_epoch, callbacks):
        """One epoch in calls of `steps_per_execution` steps (one at a time when its length is
        unknown); batch callbacks once per call, with the index of its last step, as Keras does."""
        step, totals, logs = 0, tf.zeros(3), {}
        while steps_per_epoch is None or step < steps_per_epoch:
            steps = 1 if steps_per_epoch is None else min(self.steps_per_execution,
                                                          steps_per_epoch - step)
            callbacks.on_train_batch_begin(step)
            try:
                totals += self._train_steps(iterator, tf.constant(steps))
            except tf.errors.OutOfRangeError:  # the end of a dataset of unknown length
                break
            step += steps
            loss_sum, correct, count = (float(value) for value in totals)
            logs = {"loss": loss_sum / count, "accuracy": correct / count}
            callbacks.on_train_batch_end(step - 1, logs)
        return logs
