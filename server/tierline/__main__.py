from tierline.cli import main

raise SystemExit(main())
