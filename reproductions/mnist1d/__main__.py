from reproductions.mnist1d.runner import main

raise SystemExit(main())
