# Internet-facing ALB in the public subnets. Path rules forward to the K3s NodePorts on every
# node. HTTP on 80 serves the rules; with a certificate, HTTPS on 443 serves them and 80 redirects.
locals {
  https = var.certificate_arn != null
  # One attachment per (route, node); keys are known at plan time even before the instances exist.
  attachments = {
    for pair in setproduct(keys(var.routes), range(length(var.target_instance_ids))) :
    "${pair[0]}-${pair[1]}" => { route = pair[0], index = pair[1] }
  }
}

resource "aws_lb" "this" {
  #checkov:skip=CKV2_AWS_28:A WAF web ACL costs more than this project's whole dev budget; the services validate their input and cap body sizes.
  #checkov:skip=CKV2_AWS_76:No WAF (see CKV2_AWS_28); the services are Python, not Java, so Log4j does not apply.
  #checkov:skip=CKV_AWS_150:Deletion protection is an environment setting: on in prod, off in dev so it can be torn down (deletion_protection).
  name                       = var.name
  internal                   = false
  load_balancer_type         = "application"
  subnets                    = var.subnet_ids
  security_groups            = [var.security_group_id]
  drop_invalid_header_fields = true
  enable_deletion_protection = var.deletion_protection
  # The ALB reuses an idle connection to a target for up to 60 s. The services keep theirs open
  # longer (gunicorn keepalive, KEEPALIVE_SECONDS = 75 in services/common/gunicorn_base.py), so
  # the ALB never reuses one a target has just closed (which it would answer with a 502).
  idle_timeout = 60

  access_logs {
    bucket  = var.access_logs_bucket
    prefix  = "alb"
    enabled = true
  }

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_lb_target_group" "this" {
  #checkov:skip=CKV_AWS_378:Traffic from the ALB to the NodePorts stays inside the VPC; TLS ends at the ALB.
  for_each    = var.routes
  name        = "${var.name}-${each.key}"
  port        = each.value.node_port
  protocol    = "HTTP"
  target_type = "instance"
  vpc_id      = var.vpc_id

  health_check {
    path                = each.value.health_check_path
    port                = "traffic-port"
    protocol            = "HTTP"
    matcher             = "200"
    interval            = var.health_check_interval_seconds
    timeout             = 5
    healthy_threshold   = 2
    unhealthy_threshold = 3
  }

  tags = merge(var.tags, { Name = "${var.name}-${each.key}" })
}

resource "aws_lb_target_group_attachment" "this" {
  for_each         = local.attachments
  target_group_arn = aws_lb_target_group.this[each.value.route].arn
  target_id        = var.target_instance_ids[each.value.index]
  port             = var.routes[each.value.route].node_port
}

resource "aws_lb_listener" "http" {
  #checkov:skip=CKV_AWS_2:Port 80 serves HTTP only until a certificate is given; then it redirects to 443.
  #checkov:skip=CKV_AWS_103:The HTTP listener has no TLS; the HTTPS listener sets a TLS 1.2+ policy.
  #checkov:skip=CKV2_AWS_20:The redirect to HTTPS is switched on with certificate_arn; without a certificate there is no 443 to redirect to.
  load_balancer_arn = aws_lb.this.arn
  port              = 80
  protocol          = "HTTP"

  default_action {
    type = local.https ? "redirect" : "fixed-response"

    dynamic "redirect" {
      for_each = local.https ? [1] : []
      content {
        port        = "443"
        protocol    = "HTTPS"
        status_code = "HTTP_301"
      }
    }

    dynamic "fixed_response" {
      for_each = local.https ? [] : [1]
      content {
        content_type = "application/json"
        message_body = jsonencode({ error = "not found" })
        status_code  = "404"
      }
    }
  }
}

resource "aws_lb_listener" "https" {
  count             = local.https ? 1 : 0
  load_balancer_arn = aws_lb.this.arn
  port              = 443
  protocol          = "HTTPS"
  ssl_policy        = var.ssl_policy
  certificate_arn   = var.certificate_arn

  default_action {
    type = "fixed-response"
    fixed_response {
      content_type = "application/json"
      message_body = jsonencode({ error = "not found" })
      status_code  = "404"
    }
  }
}

resource "aws_lb_listener_rule" "route" {
  for_each     = var.routes
  listener_arn = local.https ? aws_lb_listener.https[0].arn : aws_lb_listener.http.arn
  priority     = each.value.priority

  action {
    type             = "forward"
    target_group_arn = aws_lb_target_group.this[each.key].arn
  }

  condition {
    path_pattern {
      values = each.value.path_patterns
    }
  }

  # An admin-only route (Argo CD) matches only requests from admin_cidr; from anywhere else its
  # paths match no rule and get the listener's default action, the JSON 404.
  dynamic "condition" {
    for_each = each.value.admin_only ? [var.admin_cidr] : []
    content {
      source_ip {
        values = [condition.value]
      }
    }
  }

  tags = var.tags
}
