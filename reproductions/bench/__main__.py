from reproductions.bench.run import main

raise SystemExit(main())
