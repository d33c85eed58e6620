"""Adam whose update is one TensorFlow kernel per weight tensor instead of a dozen element-wise ops.

Keras 3's Adam spells the update out op by op (m, v, their bias corrections, the division), each a
pass over every weight; for Nielsen's final network (1.67 M weights) on a 2-core CPU those passes
took about a quarter of the training step's op time. TensorFlow's `ResourceApplyAdam` kernel (the
one tf.keras 2 used) computes the same update in one pass:

    m <- beta1 m + (1 - beta1) g;   v <- beta2 v + (1 - beta2) g^2
    w <- w - lr sqrt(1 - beta2^t) / (1 - beta1^t) * m / (sqrt(v) + epsilon)

the formula of `keras.optimizers.Adam.update_step`, to float rounding. Weight decay (AdamW), the
moving average of the weights, gradient clipping and tf.distribute stay Keras' own. AMSGrad and
sparse gradients fall back to Keras' update.

Reference: Kingma & Ba, Adam (2015), Algorithm 1 with the epsilon-hat form of section 2;
tf.raw_ops.ResourceApplyAdam.
"""

import keras
import tensorflow as tf


class _FusedUpdate:
    def update_step(self, gradient, variable, learning_rate):
        if self.amsgrad or isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype

        def cast(value):
            return tf.cast(value, dtype)

        step = cast(self.iterations + 1)
        index = self._get_variable_index(variable)
        tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=self._momentums[index].value.handle,
            v=self._velocities[index].value.handle,
            beta1_power=tf.pow(cast(self.beta_1), step), beta2_power=tf.pow(cast(self.beta_2), step),
            lr=cast(learning_rate), beta1=cast(self.beta_1), beta2=cast(self.beta_2),
            epsilon=cast(self.epsilon), grad=cast(gradient))


@keras.saving.register_keras_serializable(package="keras_cnn_course")
class FusedAdam(_FusedUpdate, keras.optimizers.Adam):
    """`keras.optimizers.Adam`, the same arguments, one kernel per weight tensor."""


@keras.saving.register_keras_serializable(package="keras_cnn_course")
class FusedAdamW(_FusedUpdate, keras.optimizers.AdamW):
    """`keras.optimizers.AdamW` (decoupled weight decay, applied by Keras), fused likewise."""
