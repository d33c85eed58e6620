"""A custom training loop: `model.fit`'s job where Keras 3's `fit` fails.

Under `MultiWorkerMirroredStrategy`, Keras 3's `model.fit` fails at the first step
(keras-team/keras#20585, tensorflow/tensorflow#72388). This loop does the same work with the
tf.distribute primitives: `experimental_distribute_dataset` splits each global batch across the
replicas, a `tf.function` step runs `strategy.run` on every replica, each replica's loss is its
summed per-example loss divided by the GLOBAL batch (so the all-reduced gradients are those of the
global mean), and `strategy.reduce(SUM)` collects the figures. It drives the same Keras callbacks
(progress bar, CSVLogger, BackupAndRestore, ...) and logs the same names as `fit`
(loss, accuracy, val_loss, val_accuracy), so `training.fit` serves every strategy with one API.
"""

import itertools

import keras
import tensorflow as tf

SUM = tf.distribute.ReduceOp.SUM


class CustomLoop:
    """Train and evaluate a compiled Keras model with an explicit distributed step."""

    def __init__(self, model, loss_fn, strategy, jit_compile=False):
        self.model, self.loss_fn, self.strategy = model, loss_fn, strategy
        self.optimizer = model.optimizer
        with strategy.scope():
            self.optimizer.build(model.trainable_variables)
        compile_step = dict(jit_compile=jit_compile, reduce_retracing=True)
        self._train_step = tf.function(self._train_step, **compile_step)
        self._eval_step = tf.function(self._eval_step, **compile_step)

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

    def fit(self, train, *, epochs, steps_per_epoch=None, validation=None, callbacks=(), verbose=1):
        """Run epochs like `model.fit`, honouring BackupAndRestore's restored initial epoch."""
        callbacks = keras.callbacks.CallbackList(
            list(callbacks), add_history=True, add_progbar=verbose != 0, model=self.model,
            verbose=verbose, epochs=epochs, steps=steps_per_epoch,
        )
        callbacks.on_train_begin()
        initial_epoch = self.model._initial_epoch or 0  # set by BackupAndRestore, as fit reads it
        self.model._initial_epoch = None
        distributed = self.strategy.experimental_distribute_dataset(train)
        shared_iterator = iter(distributed) if steps_per_epoch else None
        logs = {}
        for epoch in range(initial_epoch, epochs):
            callbacks.on_epoch_begin(epoch)
            iterator = shared_iterator or iter(distributed)
            steps = range(steps_per_epoch) if steps_per_epoch else itertools.count()
            loss_total = correct_total = count_total = 0.0
            for step, (x, y) in zip(steps, iterator):
                callbacks.on_train_batch_begin(step)
                loss, correct, count = (float(v) for v in self._train_step(x, y))
                loss_total, correct_total = loss_total + loss * count, correct_total + correct
                count_total += count
                logs = {"loss": loss_total / count_total, "accuracy": correct_total / count_total}
                callbacks.on_train_batch_end(step, logs)
            if validation is not None:
                logs.update({f"val_{k}": v for k, v in self.evaluate(validation).items()})
            callbacks.on_epoch_end(epoch, logs)
            if self.model.stop_training:
                break
        callbacks.on_train_end(logs)
