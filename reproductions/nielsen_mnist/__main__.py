from reproductions.nielsen_mnist.runner import main

raise SystemExit(main())
