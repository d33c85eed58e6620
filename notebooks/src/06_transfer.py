# %% [markdown]
# # 06 · Transfer learning from ImageNet on real photos
# Lecture note 001's recipe, on 186 real photos of 6 classes: an ImageNet-trained EfficientNet-Lite0 (its published weights, offline) as a frozen feature extractor with a new last layer, then its top blocks fine-tuned; the study's reference results against training from scratch.
#
# "Train on ImageNet; on a small data set, freeze the pretrained layers and retrain the last
# one; with more data, fine-tune more layers." The full study (`make reproduce-transfer`, about
# 12 minutes) measures it with 5-fold cross-validation on the photos and a learning curve on
# Fashion-MNIST, against the same network trained from scratch. Here: its reference results,
# then one split of the photos trained frozen and fine-tuned yourself.

# %%
# %matplotlib inline
import numpy as np
import matplotlib.pyplot as plt
import keras

from keras_cnn_course import results
from keras_cnn_course.exercises import short_mode, transfer as check
from keras_cnn_course.transfer import backbone, decode_predictions, preprocess_input
from keras_cnn_course.transfer.datasets import load_photo_stamps
from keras_cnn_course.transfer.finetune import classifier, split_backbone, stack
from keras_cnn_course.training import Recipe, fit

SHORT = short_mode()  # KCC_NOTEBOOK_SHORT=1: tiny data, seconds

# %% [markdown]
# ## The photos
# Tux Paint's photo stamps: cut-out photos of birds, mammals, flowers, fruit, vegetables and
# vehicles, centred on white, 96×96 pixels.

# %%
photos = load_photo_stamps(size=96)
x_all, y_all, classes = photos["x"], photos["y"], photos["classes"]
print(len(x_all), "photos:", {name: int(np.sum(y_all == k)) for k, name in enumerate(classes)})
fig, axes = plt.subplots(2, 9, figsize=(13, 3.4))
for ax, index in zip(axes.flat, np.random.default_rng(0).permutation(len(x_all))):
    ax.imshow(x_all[index]), ax.set_title(classes[y_all[index]], fontsize=9), ax.axis("off")
plt.show()

# %% [markdown]
# ## The reference results
# The study's claims are paired gains in test accuracy (percentage points) on the same split and
# seed: frozen ImageNet features over training from scratch, and fine-tuning over frozen with the
# most data. Then every condition's own accuracy, mean over the runs. `kcc compare transfer`
# prints the first table.

# %%
table = results.compare("transfer")
table[table.n > 0][["key", "documented", "mean", "std", "n", "status"]].round(2)

# %%
runs = results.load_runs("transfer")
conditions = runs[runs.key.str.endswith(("scratch", "frozen", "fine_tuned"))]
conditions.groupby("key")["test_accuracy"].agg(["mean", "std", "count"]).round(1)

# %% [markdown]
# ## ImageNet preprocessing
# EfficientNet-Lite0 expects RGB pixels mapped from [0, 255] to about [−1, 1]: subtract 127,
# divide by 128.
#
# ### Exercise 1: preprocess the images
# Write `my_preprocess(images)` for an array of RGB pixels in [0, 255] (return float32).

# %%
def my_preprocess(images):
    # BEGIN SOLUTION
    return (np.asarray(images, dtype="float32") - 127.0) / 128.0
    # END SOLUTION


# %%
check.preprocess(my_preprocess)

# %% [markdown]
# What the ImageNet network sees in a few photos, before any training of ours (its 1,000
# ImageNet classes; the photos upsampled to its 224×224 input):

# %%
from keras_cnn_course.models import efficientnet_lite0

full_net = efficientnet_lite0(weights="imagenet")
sample = x_all[np.random.default_rng(1).permutation(len(x_all))[:2 if SHORT else 4]]
probabilities = np.asarray(full_net(preprocess_input(keras.ops.image.resize(sample, (224, 224))), training=False))
fig, axes = plt.subplots(1, 4, figsize=(12, 3.4))
for ax, image, top in zip(axes, sample, decode_predictions(probabilities, top=2)):
    ax.imshow(image), ax.axis("off")
    ax.set_title("\n".join(f"{name} {p:.0%}" for _, name, p in top), fontsize=8)
plt.show()

# %% [markdown]
# ## The frozen case
# Keep every pretrained layer fixed (`trainable = False`) and train only a new last layer: a
# softmax over the 6 classes on the backbone's 1,280 pooled features.
#
# ### Exercise 2: a frozen backbone with a new head
# Write `build_frozen()`: take `backbone("efficientnet_lite0", input_shape=(96, 96, 3))` (it
# returns the model and its preprocessing; the model ends with global average pooling), freeze
# it, and return a `keras.Model` from images to 6 softmax probabilities whose only trainable
# weights are the new `Dense` layer's.

# %%
def build_frozen():
    # BEGIN SOLUTION
    features, _ = backbone("efficientnet_lite0", input_shape=(96, 96, 3))
    features.trainable = False
    return keras.Sequential([features, keras.layers.Dense(6, activation="softmax")])
    # END SOLUTION


# %%
check.frozen_head(build_frozen)

# %% [markdown]
# Frozen layers compute the same features at every epoch, so we compute them once, as the study
# does, and train the new layer on them: the same model, trained in seconds. One stratified
# split: two thirds of each class to train on, a third to test.

# %%
rng = np.random.default_rng(0)
train_idx, test_idx = [], []
for k in range(len(classes)):
    members = rng.permutation(np.flatnonzero(y_all == k))
    cut = 2 * len(members) // 3
    train_idx += list(members[:cut][:3 if SHORT else None]); test_idx += list(members[cut:][:2 if SHORT else None])
train_idx, test_idx = np.array(train_idx), np.array(test_idx)
features_net, preprocess = backbone("efficientnet_lite0", input_shape=(96, 96, 3))
bottom, top = split_backbone(features_net, "block6d_add")  # top: block7a, the 1x1 head conv, pooling
cut_features = bottom.predict(preprocess(x_all[np.r_[train_idx, test_idx]]), verbose=0)
pooled = top.predict(cut_features, verbose=0)  # the frozen network's 1,280 features
cut_train, cut_test = cut_features[:len(train_idx)], cut_features[len(train_idx):]
pooled_train, pooled_test = pooled[:len(train_idx)], pooled[len(train_idx):]
y_train, y_test = y_all[train_idx], y_all[test_idx]
print(f"{len(train_idx)} training and {len(test_idx)} test photos; features {pooled_train.shape[1:]}")

# %%
head = classifier(pooled_train.shape[1:], len(classes))
frozen = fit(lambda: head, Recipe(optimizer="adam", learning_rate=1e-3, batch_size=32,
                                  epochs=5 if SHORT else 200, steps_per_execution=4),
             (pooled_train, y_train), test=(pooled_test, y_test), verbose=0)
print(f"frozen: test accuracy {frozen.final['test_accuracy']:.1%}")

# %% [markdown]
# ## Fine-tuning the top blocks
# With the new layer trained, unfreeze the top of the backbone (block7a and the 1×1 head
# convolution) and train it together with the new layer at a 10 times smaller learning rate.
# BatchNorm layers stay in inference mode (their moving statistics kept): the known pitfall of
# fine-tuning on a small data set.

# %%
fine_tuned = fit(lambda: stack(top, head), Recipe(optimizer="adam", learning_rate=1e-4, batch_size=32,
                                                  epochs=1 if SHORT else 15, steps_per_execution=4),
                 (cut_train, y_train), test=(cut_test, y_test), verbose=0)
print(f"frozen:     test accuracy {frozen.final['test_accuracy']:.1%}\n"
      f"fine-tuned: test accuracy {fine_tuned.final['test_accuracy']:.1%}  "
      f"({len(test_idx)} test photos: one photo is {1 / len(test_idx):.1%})")

# %% [markdown]
# On about 120 training photos the two are close, and both are far above the same network trained
# from scratch on so few images. The lecture expects fine-tuning to pay off with more data; the
# reference's Fashion-MNIST learning curve above shows how far it does (at 10,000 images three
# seeds do not show the gain: `fashion_10000_fine_tune_gain`), and that there a scratch network
# trained until it stops improving overtakes the frozen features.
#
# ### Exercise 3: accuracy
# Write `my_accuracy(probabilities, labels)`: the fraction of examples whose most probable class
# is the label.

# %%
def my_accuracy(probabilities, labels):
    # BEGIN SOLUTION
    return float(np.mean(np.argmax(probabilities, axis=1) == labels))
    # END SOLUTION


# %%
check.accuracy(my_accuracy)

# %%
probabilities = fine_tuned.model.predict(cut_test, verbose=0)
print(f"fine-tuned accuracy by your function: {my_accuracy(probabilities, y_test):.1%}")
fig, axes = plt.subplots(2, 8, figsize=(13, 3.8))
for ax, index, p in zip(axes.flat, test_idx, probabilities):
    guess = p.argmax()
    ax.imshow(x_all[index]), ax.axis("off")
    ax.set_title(f"{classes[guess]}" + ("" if guess == y_all[index] else f"\n(is {classes[y_all[index]]})"),
                 fontsize=8, color="black" if guess == y_all[index] else "red")
plt.show()
