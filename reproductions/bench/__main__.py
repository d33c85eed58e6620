from keras_cnn_course import notices

raise SystemExit(notices.run_module(__package__, "run:main"))
