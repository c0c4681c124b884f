import sys

if sys.argv[1:2] == ["--serve-warm"]:
    from pathlib import Path

    from pipeline import warm
    from pipeline.cli import main

    warm.serve(Path(sys.argv[2]), main)
else:
    from pipeline.cli import main

    main()
