# A private hosted zone inside the environment's VPC, so the cluster names AWS endpoints by stable
# names of ours: the Service `postgres` (ExternalName) points at postgres.<zone> in every
# environment, and only this CNAME knows the RDS address. A restore to a new instance moves the
# record, never a value in git. Resolution goes through the VPC's resolver, which needs DNS
# support (and hostnames, for the RDS name) on the VPC.
resource "aws_route53_zone" "this" {
  #checkov:skip=CKV2_AWS_38:DNSSEC signing is for public zones; Route 53 does not sign private hosted zones.
  #checkov:skip=CKV2_AWS_39:Query logging of a private zone needs a Route 53 Resolver query log config; the VPC flow logs already record who talks to the database.
  name    = var.zone_name
  comment = "Private names of ${var.name}"

  vpc {
    vpc_id = var.vpc_id
  }

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_route53_record" "cname" {
  for_each = var.cnames
  zone_id  = aws_route53_zone.this.zone_id
  name     = "${each.key}.${var.zone_name}"
  type     = "CNAME"
  ttl      = var.ttl_seconds
  records  = [each.value]
}
