from liqtui.cli import main

raise SystemExit(main())
