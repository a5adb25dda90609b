from cloudctl.cli import main

raise SystemExit(main())
