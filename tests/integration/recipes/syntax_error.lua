local lnst = require "lnst"
return lnst.recipe {
  name = "SyntaxError"
  hosts = {},
}
