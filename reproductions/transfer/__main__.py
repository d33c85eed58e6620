from reproductions.transfer.runner import main

raise SystemExit(main())
