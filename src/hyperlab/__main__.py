from hyperlab.cli.app import main

main()
