"""The stores' data layouts stay here: Apple's (``apple``) and Google's (``google``)
gateways turn what the stores send into small typed shapes; services take shapes."""
