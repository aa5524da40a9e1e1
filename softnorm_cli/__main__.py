from softnorm_cli.process import main

main()
