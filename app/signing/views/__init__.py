"""The pages of 签约中心: one module per audience."""
