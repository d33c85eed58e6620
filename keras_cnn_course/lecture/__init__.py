"""The lecture's mathematics as functions a student can call, each checked against an oracle.

    arithmetic       output sizes (convolution, pooling, transposed convolution), parameter counts
    correlation      convolution vs cross-correlation and their identities
    backprop         gradients through a convolution and max pooling, written out
    structure        convolution as a sparse weight-tied matrix, stride, 1×1, dilation, equivariance
    sampling         subsampling, max/mean pooling, unpooling, nearest, bilinear, bed of nails
    normalization    batch, layer and instance normalisation by their axes
    filters          Sobel and Gabor filters on a real photo
    receptive_field  receptive fields measured by differentiation
    figures          the figures of `kcc figures`

docs/lecture.md maps every section of the lecture notes to the function and figure that shows it.
"""
